/**
 * Load test of `POST /v1/verify` on loopback: starts `edge/cli/serve.ts` (verifier only) in a subprocess and
 * drives it with `wrk` when it is installed (`apt-get install wrk`), otherwise with a bounded built-in load
 * generator (keep-alive fetch loops in this process). Prints requests per second and p50 / p99 latency.
 *
 *   deno run -A bench/edge_verify_load.ts [--seconds 10] [--connections 32] [--generator wrk|builtin]
 *
 * The body is a single numeric answer: `{"gold":"42","response":"... \\boxed{42}."}`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { readListeningUrl } from "../tests/edge_harness.ts";

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

async function startServer(): Promise<{ url: string; child: Deno.ChildProcess }> {
  const serve = new URL("../edge/cli/serve.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", serve, "--port", "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { url: await readListeningUrl(child.stdout.pipeThrough(new TextDecoderStream())), child };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
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
  const { values } = parseArgs({
    args: Deno.args,
    options: { seconds: { type: "string" }, connections: { type: "string" }, generator: { type: "string" } },
  });
  const seconds = Number(values.seconds ?? 10);
  const connections = Number(values.connections ?? 32);
  const { url, child } = await startServer();
  try {
    // Warm up (JIT, verifier caches) before measuring.
    await builtin(url, 1, 4);
    const useWrk = values.generator ? values.generator === "wrk" : await hasWrk();
    const result = useWrk ? await wrk(url, seconds, connections) : await builtin(url, seconds, connections);
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `/v1/verify: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
        `p99 ${result.p99Ms.toFixed(2)} ms (${result.generator}, ${result.errors} errors)`,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}
