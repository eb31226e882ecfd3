/**
 * Load test of `POST /v1/verify` on loopback, against references measured in the same run. It starts, each
 * in a subprocess:
 *
 * - `serve`: `edge/cli/serve.ts`, verifier only (the product: our HTTP server, small items verified on its
 *   thread, the rest in the worker pool);
 * - `reference`: the same app on `Deno.serve`, verifying on the server's thread;
 * - `reference, verify stubbed`: that, with a verifier that answers at once (what `Deno.serve` and the app
 *   cost without verification);
 * - `Deno.serve minimal`: a handler that reads the body and answers a fixed verdict (the ceiling of any
 *   app on `Deno.serve` on this machine);
 *
 * and drives them in turn, round after round, with `wrk` (when installed) or the raw-TCP generator of
 * `http_load.ts`. `serve` also gets a run with a separate client sending pathological requests (the slowest
 * 64 KB bodies we know, `pathologicalBodies`) at `--pathological-per-second` (default 1). Besides requests per
 * second and p50 / p99 latency it reports each server's CPU time per request (all its threads, from /proc),
 * which the machine's other load changes far less than throughput, and every ratio to `reference` per round.
 *
 *   deno run -A bench/edge_verify_load.ts [--seconds 5] [--rounds 3] [--connections 16]
 *     [--generator wrk|raw] [--pathological-per-second 1] [--healthz]
 *
 * With `--healthz` each round also loads `GET /healthz` of `serve` and `reference` (the HTTP servers' own
 * cost: the route does nothing).
 *
 * The body is a single numeric answer: `{"gold":"42","response":"... \\boxed{42}."}`.
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import {
  cpuSeconds,
  pathologicalBodies,
  type ServerProcess,
  startMinimal,
  startReference,
  startServe,
  waitForVerifier,
} from "./edge_servers.ts";
import { type LoadResult, runLoad } from "./http_load.ts";

const BODY = JSON.stringify({
  gold: "42",
  response: "Adding the two parts gives 40 + 2, so the answer is \\boxed{42}.",
});

/** A load run's figures and what made them. */
interface Run extends LoadResult {
  generator: string;
  /** The server's CPU time per request, in microseconds. */
  cpuUsPerRequest?: number;
}

/** What a run asks for: `POST /v1/verify` with {@linkcode BODY}, or `GET /healthz`. */
type Target = "verify" | "healthz";

function raw(url: string, seconds: number, connections: number, target: Target = "verify"): Promise<Run> {
  const request = target === "verify"
    ? { path: "/v1/verify", method: "POST" as const, body: BODY, expect: '"status":"correct"' }
    : { path: "/healthz", method: "GET" as const, expect: '"status":"ok"' };
  return runLoad({ url, ...request, connections, seconds })
    .then((r) => ({ ...r, generator: `raw TCP (Deno, ${connections} connections, same machine)` }));
}

function wrkMs(text: string, label: string): number {
  const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(text);
  if (!m) throw new Error(`wrk output has no ${label} latency:\n${text}`);
  const x = Number(m[1]);
  return m[2] === "us" ? x / 1000 : m[2] === "s" ? x * 1000 : x;
}

async function wrk(
  url: string,
  seconds: number,
  connections: number,
  target: Target = "verify",
): Promise<Run> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    script,
    target === "verify"
      ? `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\n` +
        `wrk.headers["Content-Type"] = "application/json"\n`
      : "",
  );
  const path = target === "verify" ? "/v1/verify" : "/healthz";
  const out = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", script, `${url}${path}`],
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
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest ?? NaN)),
  };
}

/** True when `wrk` can be run. */
async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

type Load = (url: string, seconds: number, connections: number, target?: Target) => Promise<Run>;

/** One load run against `server`, with the CPU time it used per request. */
async function measured(
  load: Load,
  server: ServerProcess,
  seconds: number,
  connections: number,
  target: Target = "verify",
): Promise<Run> {
  const cpu0 = await cpuSeconds(server.pid);
  const run = await load(server.url, seconds, connections, target);
  const cpu = await cpuSeconds(server.pid) - cpu0;
  return { ...run, cpuUsPerRequest: (cpu / run.requests) * 1e6 };
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_verify_load.ts [flags]", {
    seconds: { type: "string", arg: "S", help: "length of each run (default 5)" },
    rounds: { type: "string", arg: "N", help: "rounds, each running every server once (default 3)" },
    connections: { type: "string", arg: "N", help: "concurrent connections (default 16)" },
    generator: { type: "string", arg: "NAME", help: "load generator: wrk (default when installed) or raw" },
    "pathological-per-second": {
      type: "string",
      arg: "N",
      help: "pathological requests per second in serve's mixed runs (default 1)",
    },
    healthz: { type: "boolean", help: "also load GET /healthz of serve and the reference, each round" },
  });
  const seconds = Number(values.seconds ?? 5);
  const rounds = Number(values.rounds ?? 3);
  const connections = Number(values.connections ?? 16);
  const perSecond = Number(values["pathological-per-second"] ?? 1);
  const generator = values.generator ?? (await hasWrk() ? "wrk" : "raw");
  if (generator !== "wrk" && generator !== "raw") throw new Error(`unknown generator '${generator}'`);
  const load: Load = generator === "wrk" ? wrk : raw;
  const names = ["serve", "reference", "reference, verify stubbed", "Deno.serve minimal"] as const;
  const servers: ServerProcess[] = [];
  try {
    for (
      const start of [() => startServe(), () => startReference(), () => startReference({ stubVerify: true })]
    ) {
      servers.push(await start());
    }
    servers.push(await startMinimal());
    for (const server of servers.slice(0, 3)) await waitForVerifier(server.url);
    // Warm up: JIT, verifier caches, every worker loaded.
    for (const server of servers) await raw(server.url, 2, connections);
    const runs: Run[][] = names.map(() => []);
    const mixedRuns: Run[] = [];
    const healthRuns: Run[][] = [[], []];
    const statuses: Record<string, number> = {};
    // Servers take turns within each round, so that a change in the machine's other load hits all alike.
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < servers.length; i++) {
        runs[i].push(await measured(load, servers[i], seconds, connections));
      }
      if (values.healthz) {
        for (let i = 0; i < 2; i++) {
          healthRuns[i].push(await measured(load, servers[i], seconds, connections, "healthz"));
        }
      }
      const stop = new AbortController();
      const attacks = pathological(servers[0].url, perSecond, stop.signal);
      mixedRuns.push(await measured(load, servers[0], seconds, connections));
      stop.abort();
      for (const [key, n] of Object.entries(await attacks)) statuses[key] = (statuses[key] ?? 0) + n;
    }
    console.log(
      JSON.stringify(
        { runs: Object.fromEntries(names.map((n, i) => [n, runs[i]])), mixedRuns, healthRuns },
        null,
        2,
      ),
    );
    const line = (r: Run) =>
      `${r.requestsPerSecond.toFixed(0).padStart(6)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${
        r.p99Ms.toFixed(2)
      } ms, ${r.cpuUsPerRequest?.toFixed(0)} µs CPU/req, ${r.errors} errors`;
    const perRound = (xs: Run[]) =>
      xs.map((r, k) => (r.requestsPerSecond / runs[1][k].requestsPerSecond).toFixed(2)).join(", ");
    console.log(
      `/v1/verify, ${generator} with ${connections} connections, ${rounds} rounds of ${seconds} s per server ` +
        `(load average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}):`,
    );
    for (let i = 0; i < names.length; i++) {
      console.log(
        `  ${names[i].padEnd(26)} ${line(pooled(runs[i]))}; req/s / reference per round: ${
          perRound(runs[i])
        }`,
      );
    }
    console.log(
      `  ${`serve + ${perSecond} patho./s`.padEnd(26)} ${
        line(pooled(mixedRuns))
      }; req/s / reference per round: ${perRound(mixedRuns)}`,
    );
    console.log(
      `  serve mixed / plain per round: ${
        mixedRuns.map((r, k) => (r.requestsPerSecond / runs[0][k].requestsPerSecond).toFixed(2)).join(", ")
      }; ` +
        `pathological answers ${JSON.stringify(statuses)}`,
    );
    if (values.healthz) {
      const ratios = healthRuns[0].map((r, k) => (r.requestsPerSecond / healthRuns[1][k].requestsPerSecond));
      console.log(`GET /healthz, same rounds:`);
      console.log(`  ${"serve".padEnd(26)} ${line(pooled(healthRuns[0]))}`);
      console.log(`  ${"reference".padEnd(26)} ${line(pooled(healthRuns[1]))}`);
      console.log(`  serve / reference per round: ${ratios.map((r) => r.toFixed(2)).join(", ")}`);
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}
