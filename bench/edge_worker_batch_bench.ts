/**
 * Does decode batching pay as much in the server's decoder worker as on the calling thread? Loads the same
 * random model (the trainer's `bench` shapes, character vocabulary) twice through `loadModelDir`, as
 * `deno task serve` does: once with its decoder in a worker, once in this process. Then, round after round
 * and taking turns, it runs B = 1, 4 and 8 generations of 64 tokens at once through `LanguageModel.generate`
 * (prompt of 16 tokens, temperature 1) and prints tokens per second and the gain of each B over B = 1 of the
 * same round and the same setup.
 *
 *   deno run -A bench/edge_worker_batch_bench.ts [--rounds 3]
 *
 * @module
 */

import { loadModelDir } from "../edge/inference/load_model_dir.ts";
import type { LanguageModel } from "../edge/inference/language_model.ts";
import { writeQwen2ModelDir } from "../tests/edge_qwen2_model.ts";
import { benchFlags } from "./flags.ts";

const TOKENS = 64;
const BATCHES = [1, 4, 8];
const PROMPT = Array.from({ length: 16 }, (_, i) => 5 + (i * 7) % 60);

/** Tokens per second of `rows` generations run at once. */
async function tokensPerSecond(model: LanguageModel, rows: number): Promise<number> {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: rows }, (_, seed) =>
    model.generate(
      PROMPT,
      { maxTokens: TOKENS, sampling: { temperature: 1 }, seed, stop: [] },
      () => {},
    )));
  const tokens = results.reduce((a, r) => a + r.completionTokens, 0);
  return tokens / ((performance.now() - t0) / 1000);
}

if (import.meta.main) {
  const { values } = benchFlags("Run: deno run -A bench/edge_worker_batch_bench.ts [flags]", {
    rounds: { type: "string", arg: "N", help: "rounds (default 3)" },
  });
  const rounds = Number(values.rounds ?? 3);
  const dir = await Deno.makeTempDir({ prefix: "edge_worker_batch_" });
  await writeQwen2ModelDir(`${dir}/tiny`);
  const setups: [string, LanguageModel][] = [
    ["worker", await loadModelDir(`${dir}/tiny`, { concurrency: 1, decodeBatch: 16, workers: true })],
    ["in-process", await loadModelDir(`${dir}/tiny`, { concurrency: 1, decodeBatch: 16, workers: false })],
  ];
  try {
    for (const [, model] of setups) for (const b of BATCHES) await tokensPerSecond(model, b); // warm up
    const rates: number[][][] = setups.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let s = 0; s < setups.length; s++) {
        const row: number[] = [];
        for (const b of BATCHES) row.push(await tokensPerSecond(setups[s][1], b));
        rates[s].push(row);
      }
    }
    console.log(
      `${BATCHES.join("/")} generations of ${TOKENS} tokens at once, ${rounds} rounds (load average ${
        Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
      }):`,
    );
    setups.forEach(([name], s) => {
      const perRound = rates[s].map((row) =>
        row.map((x) => x.toFixed(0)).join("/") + " tokens/s (gain " +
        row.slice(1).map((x) => (x / row[0]).toFixed(1) + "×").join(", ") + ")"
      );
      console.log(`  ${name.padEnd(10)} ${perRound.join("; ")}`);
    });
  } finally {
    for (const [, model] of setups) await model.close();
    await Deno.remove(dir, { recursive: true });
  }
}
