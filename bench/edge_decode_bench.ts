/**
 * Completion tokens per second of the edge decoder (onnxruntime-web, `wasm` provider, one thread) on a
 * random model with the `bench` preset's shapes (4 layers, hidden 128, character vocabulary): each iteration
 * generates 64 tokens after a 16-token prompt with the KV cache. tokens/s = 64 / (time per iteration). The
 * `batch` group runs B such generations at once, as rows of one decode batch (B × 64 tokens an iteration),
 * against B = 1 (the sequential path).
 *
 *   deno task bench bench/edge_decode_bench.ts
 *
 * @module
 */

import { createCharTokenizer } from "../core/tokenizer/mod.ts";
import { parseDecoderConfig } from "../edge/inference/model_config.ts";
import { OnnxDecoder } from "../edge/inference/onnx_decoder.ts";
import { randomQwen2Onnx, tinyQwen2Config } from "../tests/edge_qwen2_model.ts";

const TOKENS = 64;
const vocab = createCharTokenizer().vocabSize;
const config = tinyQwen2Config(vocab);
const onnx = randomQwen2Onnx(config);
const decoder = await OnnxDecoder.load(onnx, parseDecoderConfig(config), "wasm", undefined, 16);
const prompt = Array.from({ length: 16 }, (_, i) => 5 + (i * 7) % (vocab - 5));

async function decode(temperature: number): Promise<void> {
  let n = 0;
  for await (const _ of decoder.generate(prompt, { maxTokens: TOKENS, sampling: { temperature }, seed: 1 })) {
    n++;
  }
  if (n !== TOKENS) throw new Error(`generated ${n} tokens, expected ${TOKENS}`);
}

Deno.bench(
  { name: `tiny Qwen2, wasm: ${TOKENS} tokens greedy`, group: "decode", baseline: true, n: 20 },
  async () => {
    await decode(0);
  },
);

Deno.bench(
  { name: `tiny Qwen2, wasm: ${TOKENS} tokens, temperature 1`, group: "decode", n: 20 },
  async () => {
    await decode(1);
  },
);

/** B generations of 64 tokens at temperature 1, with their own seeds, in one decode batch. */
async function decodeBatch(rows: number): Promise<void> {
  const counts = await Promise.all(Array.from({ length: rows }, async (_, seed) => {
    let n = 0;
    for await (
      const _ of decoder.generate(prompt, { maxTokens: TOKENS, sampling: { temperature: 1 }, seed })
    ) n++;
    return n;
  }));
  if (counts.some((n) => n !== TOKENS)) throw new Error(`generated ${counts}, expected ${TOKENS} each`);
}

for (const rows of [1, 4, 8, 16]) {
  Deno.bench(
    {
      name: `tiny Qwen2, wasm: ${rows} × ${TOKENS} tokens in one batch`,
      group: "batch",
      baseline: rows === 1,
      n: 10,
    },
    async () => {
      await decodeBatch(rows);
    },
  );
}
