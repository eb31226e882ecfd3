/**
 * Load test of `POST /v1/verify` on loopback: starts `edge/cli/serve.ts` (verifier only) in a subprocess and
 * drives it with the raw-TCP load generator of `http_load.ts` (or `wrk` with `--generator wrk`, when it is
 * installed). In one process it alternates plain runs and runs with a separate client sending pathological
 * requests (the slowest 64 KB bodies we know, `pathologicalBodies`) at `--pathological-per-second` (default
 * 1), and prints requests per second and p50 / p99 latency for both, and their ratio per round.
 *
 *   deno run -A bench/edge_verify_load.ts [--seconds 5] [--rounds 3] [--connections 16]
 *     [--generator raw|wrk] [--pathological-per-second 1] [--reference]
 *
 * The body is a single numeric answer: `{"gold":"42","response":"... \\boxed{42}."}`. `--reference` measures
 * the pre-hardening setup instead (`Deno.serve`, verification on the server's thread).
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { pathologicalBodies, startReference, startServe, waitForVerifier } from "./edge_servers.ts";
import { type LoadResult, runLoad } from "./http_load.ts";

const BODY = JSON.stringify({
  gold: "42",
  response: "Adding the two parts gives 40 + 2, so the answer is \\boxed{42}.",
});

/** A load run's figures and what made them. */
interface Run extends LoadResult {
  generator: string;
}

function raw(url: string, seconds: number, connections: number): Promise<Run> {
  return runLoad({
    url,
    path: "/v1/verify",
    method: "POST",
    body: BODY,
    connections,
    seconds,
    expect: '"status":"correct"',
  }).then((r) => ({ ...r, generator: `raw TCP (Deno, ${connections} connections, same machine)` }));
}

function wrkMs(text: string, label: string): number {
  const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(text);
  if (!m) throw new Error(`wrk output has no ${label} latency:\n${text}`);
  const x = Number(m[1]);
  return m[2] === "us" ? x / 1000 : m[2] === "s" ? x * 1000 : x;
}

async function wrk(url: string, seconds: number, connections: number): Promise<Run> {
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
    maxMs: NaN,
    errors: non2xx,
  };
}

/** Sends the pathological bodies in turn, `perSecond` a second, until `signal` aborts; counts the answers. */
async function pathological(url: string, perSecond: number, signal: AbortSignal) {
  const bodies = pathologicalBodies(65536);
  const statuses: Record<string, number> = {};
  const sent: Promise<void>[] = [];
  for (let i = 0; !signal.aborted; i++) {
    sent.push(
      fetch(`${url}/v1/verify`, { method: "POST", body: bodies[i % bodies.length], signal })
        .then(async (res) => {
          const key = `${res.status} ${(await res.json()).status}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
        })
        .catch(() => {}),
    );
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  await Promise.all(sent);
  return statuses;
}

/** Sums rounds of one kind: total requests over total time; latency quantiles as the rounds' median. */
function pooled(runs: Run[]): Run {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    generator: runs[0].generator,
    requests,
    seconds,
    requestsPerSecond: requests / seconds,
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    maxMs: Math.max(...runs.map((r) => r.maxMs)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_verify_load.ts [flags]", {
    seconds: { type: "string", arg: "S", help: "length of each round (default 5)" },
    rounds: { type: "string", arg: "N", help: "plain/mixed round pairs (default 3)" },
    connections: { type: "string", arg: "N", help: "concurrent connections (default 16)" },
    generator: { type: "string", arg: "NAME", help: "load generator: raw (default) or wrk" },
    "pathological-per-second": {
      type: "string",
      arg: "N",
      help: "pathological requests per second in the mixed rounds (default 1)",
    },
    reference: {
      type: "boolean",
      help: "load the reference server (verification on its thread) instead of serve",
    },
  });
  const seconds = Number(values.seconds ?? 5);
  const rounds = Number(values.rounds ?? 3);
  const connections = Number(values.connections ?? 16);
  const perSecond = Number(values["pathological-per-second"] ?? 1);
  const load = values.generator === "wrk" ? wrk : raw;
  const server = values.reference ? await startReference() : await startServe();
  const url = server.url;
  try {
    await waitForVerifier(url);
    await raw(url, 3, connections); // warm up: JIT, verifier caches, every worker loaded
    // Plain and mixed runs alternate, so that a change in the machine's other load hits both alike.
    const plainRuns: Run[] = [], mixedRuns: Run[] = [];
    const statuses: Record<string, number> = {};
    for (let round = 0; round < rounds; round++) {
      plainRuns.push(await load(url, seconds, connections));
      const stop = new AbortController();
      const attacks = pathological(url, perSecond, stop.signal);
      mixedRuns.push(await load(url, seconds, connections));
      stop.abort();
      for (const [key, n] of Object.entries(await attacks)) statuses[key] = (statuses[key] ?? 0) + n;
    }
    const plain = pooled(plainRuns), mixed = pooled(mixedRuns);
    const ratios = plainRuns.map((p, i) => mixedRuns[i].requestsPerSecond / p.requestsPerSecond);
    console.log(JSON.stringify({ plainRuns, mixedRuns, pathologicalStatuses: statuses }, null, 2));
    const setup = values.reference ? "reference: Deno.serve, verify on thread" : "serve: worker pool";
    const line = (r: Run) =>
      `${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${
        r.p99Ms.toFixed(2)
      } ms, ` +
      `max ${r.maxMs.toFixed(0)} ms, ${r.errors} errors`;
    console.log(`/v1/verify (${setup}; ${plain.generator}; ${rounds} rounds of ${seconds} s each):`);
    console.log(`  plain:                          ${line(plain)}`);
    console.log(`  ${perSecond} pathological req/s mixed in: ${line(mixed)}`);
    console.log(
      `  mixed/plain throughput per round: ${ratios.map((r) => r.toFixed(2)).join(", ")}; ` +
        `p99 ratio ${(mixed.p99Ms / plain.p99Ms).toFixed(2)}; pathological answers ${
          JSON.stringify(statuses)
        }`,
    );
  } finally {
    await server.stop();
  }
}
