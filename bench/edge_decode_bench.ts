/**
 * Completion tokens per second of the edge decoder (onnxruntime-web, `wasm` provider, one thread) on a
 * random model with the `bench` preset's shapes (4 layers, hidden 128, character vocabulary): each iteration
 * generates 64 tokens after a 16-token prompt with the KV cache. tokens/s = 64 / (time per iteration).
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
const decoder = await OnnxDecoder.load(randomQwen2Onnx(config), parseDecoderConfig(config), "wasm");
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
