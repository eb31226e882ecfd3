/**
 * Chat streams while one client stops reading: writes a random model with the trainer's `tiny` shapes to a
 * temporary folder, serves it with `edge/cli/serve.ts --model` and runs 8 concurrent streamed chat requests
 * (64 tokens each) in alternating rounds: alone, then with a ninth client that asks for a long streamed answer
 * (n = 8) and never reads it. For each stream it measures tokens per second while it streams (first to last
 * token) and its time to first token, and prints the per-stream ratio of the two kinds of round.
 *
 *   deno run -A bench/edge_streams_load.ts [--concurrency 1] [--decode-batch 16] [--streams 8] [--rounds 3]
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { DEFAULT_DECODE_BATCH } from "../edge/inference/load_model_dir.ts";
import { waitUntilReady } from "../tests/edge_harness.ts";
import { writeQwen2ModelDir } from "../tests/edge_qwen2_model.ts";
import { startServe } from "./edge_servers.ts";

interface StreamFigures {
  tokens: number;
  tokensPerSecond: number;
  firstTokenMs: number;
}

async function stream(url: string, seed: number): Promise<StreamFigures> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({
      model: "tiny",
      messages: [{ role: "user", content: "what is 12 + 30?" }],
      max_tokens: 64,
      temperature: 1,
      seed,
      stream: true,
    }),
  });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  let first = 0, last = 0, tokens = 0;
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    const text = decoder.decode(chunk, { stream: true });
    const events = text.split("\n\n").filter((e) => e.startsWith("data: {") && e.includes('"content"'));
    if (events.length === 0) continue;
    last = performance.now();
    if (first === 0) first = last;
    tokens += events.length;
  }
  return {
    tokens,
    tokensPerSecond: tokens / Math.max(1e-3, (last - first) / 1000),
    firstTokenMs: first - t0,
  };
}

/** Opens a long stream and never reads its body; returns a function that drops it. */
async function stalledClient(url: string): Promise<() => void> {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({
      model: "tiny",
      messages: [{ role: "user", content: "tell me everything" }],
      max_tokens: 1024,
      n: 8,
      stream: true,
    }),
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`stalled client: status ${res.status}`);
  return () => controller.abort();
}

async function round(url: string, streams: number, withStalled: boolean): Promise<StreamFigures[]> {
  const drop = withStalled ? await stalledClient(url) : undefined;
  try {
    return await Promise.all(Array.from({ length: streams }, (_, i) => stream(url, i + 1)));
  } finally {
    drop?.();
  }
}

/** Tokens per second of each stream over all rounds: its tokens over its streaming time, both summed. */
function pooledRates(rounds: StreamFigures[][]): number[] {
  return rounds[0].map((_, i) => {
    const tokens = rounds.reduce((n, r) => n + r[i].tokens, 0);
    const seconds = rounds.reduce((t, r) => t + r[i].tokens / r[i].tokensPerSecond, 0);
    return tokens / seconds;
  });
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_streams_load.ts [flags]", {
    concurrency: { type: "string", arg: "N", help: "the server's decoder workers (default 1)" },
    "decode-batch": {
      type: "string",
      arg: "N",
      help: "rows of the server's decode batch (default: serve's)",
    },
    streams: { type: "string", arg: "N", help: "chat streams at once (default 8)" },
    rounds: { type: "string", arg: "N", help: "alternating rounds of each setup (default 3)" },
  });
  const concurrency = Number(values.concurrency ?? 1);
  const decodeBatch = Number(values["decode-batch"] ?? DEFAULT_DECODE_BATCH);
  const streams = Number(values.streams ?? 8);
  const rounds = Number(values.rounds ?? 3);
  const dir = await Deno.makeTempDir({ prefix: "edge_streams_" });
  await writeQwen2ModelDir(`${dir}/tiny`);
  const server = await startServe([
    "--model",
    `${dir}/tiny`,
    "--concurrency",
    `${concurrency}`,
    "--decode-batch",
    `${decodeBatch}`,
  ]);
  try {
    await waitUntilReady(server.url, 1200);
    // Warm up every batch shape the rounds use.
    await round(server.url, streams, false);
    await round(server.url, streams, true);
    // Rounds alternate, so that a change in the machine's other load hits both alike. A stream has the same
    // seed in every round, hence the same tokens.
    const alone: StreamFigures[][] = [], stalled: StreamFigures[][] = [];
    for (let r = 0; r < rounds; r++) {
      alone.push(await round(server.url, streams, false));
      stalled.push(await round(server.url, streams, true));
    }
    const aloneRates = pooledRates(alone), stalledRates = pooledRates(stalled);
    const ratios = aloneRates.map((a, i) => stalledRates[i] / a);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const firstToken = (rs: StreamFigures[][]) => mean(rs.flat().map((s) => s.firstTokenMs));
    console.log(JSON.stringify({ concurrency, decodeBatch, alone, stalled, ratios }, null, 2));
    console.log(
      `${streams} chat streams (tiny Qwen2 shapes, ${concurrency} decoder worker(s), decode batch ` +
        `${decodeBatch}, ${rounds} rounds): ${mean(aloneRates).toFixed(1)} tokens/s per stream alone, ` +
        `${mean(stalledRates).toFixed(1)} with a client that does not read (8 × 1024 tokens); ` +
        `per-stream ratio min ${Math.min(...ratios).toFixed(2)}, mean ${mean(ratios).toFixed(2)}; ` +
        `mean time to first token ${firstToken(alone).toFixed(0)} ms vs ${firstToken(stalled).toFixed(0)} ms`,
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
