/**
 * `/healthz` latency while single requests of at most 64 KB attack the server, one after the other with one
 * always in flight, while another client probes `/healthz` every 10 ms with a 1 s client-side limit (a probe
 * over it counts as 1000 ms). Attacks:
 *
 * - `verify`: the slowest `/v1/verify` bodies we know (`pathologicalBodies`), against `deno task serve`
 *   (verification in workers with a hard deadline) and against the reference (`Deno.serve`, verification on
 *   the server's thread);
 * - `chat`: against `deno task serve --model` (a random model with the trainer's `tiny` shapes and a
 *   2048-token context), a 64 KB chat message (tokenised, then refused as longer than the context) and a
 *   streamed chat request of 8 choices × 1024 tokens after a 1000-character message, read to the end.
 *
 * It prints p50 / p99 / max for each, and first for a run without attack (the machine's own noise).
 *
 *   deno run -A bench/edge_healthz_load.ts [--seconds 10] [--bytes 65536]
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { waitUntilReady } from "../tests/edge_harness.ts";
import { writeQwen2ModelDir } from "../tests/edge_qwen2_model.ts";
import {
  pathologicalBodies,
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
  attack: string;
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  probesOverLimit: number;
  attackStatuses: Record<string, number>;
}

/** Sends requests back to back until `signal` aborts; counts the answers by status and error code. */
async function attackLoop(
  signal: AbortSignal,
  send: (i: number) => Promise<Response>,
  statuses: Record<string, number>,
): Promise<void> {
  for (let i = 0; !signal.aborted; i++) {
    try {
      const res = await send(i);
      const text = await res.text();
      let code = "";
      try {
        const json = JSON.parse(text);
        code = json.status ?? json.error?.code ?? "";
      } catch { /* a stream */ }
      const key = `${res.status} ${code}`.trim();
      statuses[key] = (statuses[key] ?? 0) + 1;
    } catch {
      return;
    }
  }
}

/** One attack: a name and what it sends, as one or more back-to-back loops. */
interface Attack {
  name: string;
  loops: ((url: string, signal: AbortSignal) => (i: number) => Promise<Response>)[];
}

function verifyAttack(bytes: number): Attack {
  const bodies = pathologicalBodies(bytes);
  return {
    name: `${bytes}-byte pathological /v1/verify`,
    loops: [
      (url, signal) => (i) =>
        fetch(`${url}/v1/verify`, { method: "POST", body: bodies[i % bodies.length], signal }),
    ],
  };
}

function chatAttack(bytes: number): Attack {
  const chat = (url: string, signal: AbortSignal, body: unknown) =>
    fetch(`${url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(body), signal });
  const huge = { model: "tiny", messages: [{ role: "user", content: "7+5=12. ".repeat(bytes / 8 - 20) }] };
  const large = {
    model: "tiny",
    messages: [{ role: "user", content: "what is 12 + 30? ".repeat(60) }],
    n: 8,
    max_tokens: 1024,
    stream: true,
  };
  return {
    name: `${bytes}-byte chat request and an 8 × 1024-token chat stream`,
    loops: [(url, signal) => () => chat(url, signal, huge), (url, signal) => () => chat(url, signal, large)],
  };
}

async function measure(server: ServerProcess, attack: Attack, seconds: number): Promise<HealthResult> {
  const stop = new AbortController();
  const statuses: Record<string, number> = {};
  const attackers = attack.loops.map((loop) =>
    attackLoop(stop.signal, loop(server.url, stop.signal), statuses)
  );
  await new Promise((r) => setTimeout(r, 100)); // the first attacks are in flight
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
  await Promise.all(attackers);
  const sorted = Float64Array.from(latencies).sort();
  return {
    server: "",
    attack: attack.name,
    probes: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1],
    probesOverLimit: over,
    attackStatuses: statuses,
  };
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_healthz_load.ts [flags]", {
    seconds: { type: "string", arg: "S", help: "length of each run (default 10)" },
    bytes: { type: "string", arg: "N", help: "size of the pathological bodies (default 65536)" },
  });
  const seconds = Number(values.seconds ?? 10);
  const bytes = Number(values.bytes ?? 65536);
  const dir = await Deno.makeTempDir({ prefix: "edge_healthz_" });
  await writeQwen2ModelDir(`${dir}/tiny`, { max_position_embeddings: 2048 });
  const setups: [string, () => Promise<ServerProcess>, Attack][] = [
    ["serve", () => startServe(), { name: "no attack (baseline)", loops: [] }],
    ["serve (worker pool)", () => startServe(), verifyAttack(bytes)],
    ["reference (verify on thread)", startReference, verifyAttack(bytes)],
    ["serve --model (decoder worker)", () => startServe(["--model", `${dir}/tiny`]), chatAttack(bytes)],
  ];
  const results: HealthResult[] = [];
  try {
    for (const [name, start, attack] of setups) {
      const server = await start();
      try {
        await waitForVerifier(server.url);
        await waitUntilReady(server.url, 1200);
        await new Promise((r) => setTimeout(r, 2000)); // let the other workers finish loading
        results.push({ ...await measure(server, attack, seconds), server: name });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(JSON.stringify(results, null, 2));
  for (const r of results) {
    console.log(
      `/healthz, ${r.server}, under a ${r.attack}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${
        r.p99Ms.toFixed(2)
      } ms, ` +
        `max ${r.maxMs.toFixed(0)} ms, ${r.probesOverLimit}/${r.probes} probes over ${PROBE_LIMIT_MS} ms; ` +
        `attacks answered: ${JSON.stringify(r.attackStatuses)}`,
    );
  }
}
