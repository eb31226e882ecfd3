/**
 * Load test of `POST /v1/verify` on loopback: starts `edge/cli/serve.ts` (verifier only) in a subprocess and
 * drives it with `wrk` when it is installed (`apt-get install wrk`), otherwise with a bounded built-in load
 * generator (keep-alive fetch loops in this process). Prints requests per second and p50 / p99 latency.
 *
 *   deno run -A bench/edge_verify_load.ts [--seconds 10] [--connections 16] [--generator wrk|builtin]
 *     [--pathological-per-second 1] [--reference]
 *
 * The body is a single numeric answer: `{"gold":"42","response":"... \\boxed{42}."}`. With
 * `--pathological-per-second N`, a separate client also sends N requests a second whose 64 KB response makes
 * the old answer extraction backtrack catastrophically (each is answered `timeout` once its deadline passes).
 * `--reference` measures the pre-hardening setup instead (`Deno.serve`, verification on the server's thread);
 * it cannot be combined with pathological requests, which would freeze it.
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import {
  pathologicalResponse,
  percentile,
  startReference,
  startServe,
  waitForVerifier,
} from "./edge_servers.ts";

const BODY = JSON.stringify({
  gold: "42",
  response: "Adding the two parts gives 40 + 2, so the answer is \\boxed{42}.",
});

/** The figures of one run. */
interface LoadResult {
  generator: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function builtin(url: string, seconds: number, connections: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/verify`, {
        method: "POST",
        body: BODY,
        headers: { "content-type": "application/json" },
      });
      const json = await res.json();
      if (res.status !== 200 || json.status !== "correct") errors++;
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    generator: `builtin (${connections} connections, same machine)`,
    requests: latencies.length,
    seconds: elapsed,
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors,
  };
}

function wrkMs(text: string, label: string): number {
  const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(text);
  if (!m) throw new Error(`wrk output has no ${label} latency:\n${text}`);
  const x = Number(m[1]);
  return m[2] === "us" ? x / 1000 : m[2] === "s" ? x * 1000 : x;
}

async function wrk(url: string, seconds: number, connections: number): Promise<LoadResult> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\n` +
      `wrk.headers["Content-Type"] = "application/json"\n`,
  );
  const out = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", script, `${url}/v1/verify`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return {
    generator: `wrk (1 thread, ${connections} connections)`,
    requests,
    seconds,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50Ms: wrkMs(text, "50%"),
    p99Ms: wrkMs(text, "99%"),
    errors: non2xx,
  };
}

async function hasWrk(): Promise<boolean> {
  try {
    return (await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" })
      .output()) !== null;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_verify_load.ts [flags]", {
    seconds: { type: "string", arg: "S", help: "length of the run (default 10)" },
    connections: { type: "string", arg: "N", help: "concurrent connections (default 16)" },
    generator: { type: "string", arg: "NAME", help: "load generator" },
    "pathological-per-second": {
      type: "string",
      arg: "N",
      help: "pathological requests per second mixed in (default 0)",
    },
    reference: { type: "boolean", help: "load the reference server instead of serve" },
  });
  const seconds = Number(values.seconds ?? 10);
  const connections = Number(values.connections ?? 16);
  const perSecond = Number(values["pathological-per-second"] ?? 0);
  if (values.reference && perSecond > 0) throw new Error("--reference freezes on pathological requests");
  const server = values.reference ? await startReference() : await startServe();
  const url = server.url;
  const stop = new AbortController();
  const pathological: Promise<unknown>[] = [];
  const pathologicalStatuses: Record<string, number> = {};
  try {
    await waitForVerifier(url);
    // Warm up (JIT, verifier caches, every worker loaded) before measuring.
    await builtin(url, 3, 4);
    if (perSecond > 0) {
      const body = JSON.stringify({ gold: "1", response: pathologicalResponse(65536) });
      const timer = setInterval(() => {
        pathological.push(
          fetch(`${url}/v1/verify`, { method: "POST", body, signal: stop.signal })
            .then(async (res) => {
              const key = `${res.status} ${(await res.json()).status}`;
              pathologicalStatuses[key] = (pathologicalStatuses[key] ?? 0) + 1;
            })
            .catch(() => {}),
        );
      }, 1000 / perSecond);
      stop.signal.addEventListener("abort", () => clearInterval(timer));
    }
    const useWrk = values.generator ? values.generator === "wrk" : await hasWrk();
    const result = useWrk ? await wrk(url, seconds, connections) : await builtin(url, seconds, connections);
    stop.abort();
    await Promise.all(pathological);
    console.log(JSON.stringify({ ...result, pathologicalStatuses }, null, 2));
    const setup = values.reference ? "reference: Deno.serve, verify on thread" : "serve: worker pool";
    const mix = perSecond > 0 ? `, ${perSecond} pathological req/s` : "";
    console.log(
      `/v1/verify (${setup}${mix}): ${result.requestsPerSecond.toFixed(0)} req/s, ` +
        `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.generator}, ` +
        `${result.errors} errors)`,
    );
  } finally {
    stop.abort();
    await server.stop();
  }
}
