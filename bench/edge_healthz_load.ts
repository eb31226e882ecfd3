/**
 * `/healthz` latency while pathological verifications run: one client keeps a 64 KB `/v1/verify` request
 * that backtracks catastrophically in flight at all times (a new one as soon as one is answered), while
 * another probes `/healthz` every 10 ms with a 1 s client-side limit (a probe over it counts as 1000 ms).
 * It runs against `deno task serve` (verification in workers with a hard deadline) and against the reference
 * (`Deno.serve`, verification on the server's thread), and prints p50 / p99 / max for both.
 *
 *   deno run -A bench/edge_healthz_load.ts [--seconds 10] [--bytes 65536]
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import {
  pathologicalResponse,
  percentile,
  type ServerProcess,
  startReference,
  startServe,
  waitForVerifier,
} from "./edge_servers.ts";

const PROBE_LIMIT_MS = 1000;

/** The figures of one run. */
interface HealthResult {
  server: string;
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  probesOverLimit: number;
  attacks: number;
  attackStatuses: Record<string, number>;
}

async function measure(name: string, server: ServerProcess, seconds: number, bytes: number) {
  await waitForVerifier(server.url);
  await new Promise((r) => setTimeout(r, 2000)); // let the other workers finish loading
  const stop = new AbortController();
  const body = JSON.stringify({ gold: "1", response: pathologicalResponse(bytes) });
  const statuses: Record<string, number> = {};
  let attacks = 0;
  const attacker = (async () => {
    while (!stop.signal.aborted) {
      try {
        const res = await fetch(`${server.url}/v1/verify`, { method: "POST", body, signal: stop.signal });
        const verdict = await res.json();
        const key = `${res.status} ${verdict.status ?? verdict.error?.code}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
        attacks++;
      } catch {
        return;
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 100)); // the first attack is in flight
  const latencies: number[] = [];
  let over = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(PROBE_LIMIT_MS) });
      await res.body?.cancel();
      latencies.push(performance.now() - t0);
    } catch {
      latencies.push(PROBE_LIMIT_MS);
      over++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  stop.abort();
  await attacker;
  const sorted = Float64Array.from(latencies).sort();
  const result: HealthResult = {
    server: name,
    probes: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1],
    probesOverLimit: over,
    attacks,
    attackStatuses: statuses,
  };
  return result;
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_healthz_load.ts [flags]", {
    seconds: { type: "string", arg: "S", help: "length of each run (default 10)" },
    bytes: { type: "string", arg: "N", help: "size of the pathological responses (default 65536)" },
  });
  const seconds = Number(values.seconds ?? 10);
  const bytes = Number(values.bytes ?? 65536);
  const results: HealthResult[] = [];
  for (
    const [name, start] of [["serve (worker pool)", startServe], [
      "reference (on thread)",
      startReference,
    ]] as const
  ) {
    const server = await start();
    try {
      results.push(await measure(name, server, seconds, bytes));
    } finally {
      await server.stop();
    }
  }
  console.log(JSON.stringify(results, null, 2));
  for (const r of results) {
    console.log(
      `/healthz with a ${bytes}-byte pathological verify in flight, ${r.server}: p50 ${
        r.p50Ms.toFixed(2)
      } ms, ` +
        `p99 ${r.p99Ms.toFixed(2)} ms, max ${
          r.maxMs.toFixed(0)
        } ms, ${r.probesOverLimit}/${r.probes} probes ` +
        `over ${PROBE_LIMIT_MS} ms; attacks answered: ${JSON.stringify(r.attackStatuses)}`,
    );
  }
}
