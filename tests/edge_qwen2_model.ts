/**
 * A randomly initialised Qwen2 decoder exported by the trainer's ONNX exporter, written as a model folder the
 * edge server loads (model.onnx, config.json, tokenizer.json with the project's character tokenizer).
 *
 * @module
 */

import { createRng } from "../core/random/mod.ts";
import { createCharTokenizer } from "../core/tokenizer/mod.ts";
import { presetConfig } from "../trainer/model/config.ts";
import { exportOnnx, type OnnxModelConfig, qwen2WeightShapes } from "../trainer/model/onnx_export.ts";

/** The shapes of the `bench` model preset (4 layers, hidden 128) with a given vocabulary, then `overrides`. */
export function tinyQwen2Config(
  vocabSize: number,
  overrides: Partial<OnnxModelConfig> = {},
): OnnxModelConfig {
  return { ...presetConfig("bench", { vocabSize }), ...overrides };
}

/** Seeded random weights of `config` (norm weights 1, others N(0, 0.2²) — peaky logits). */
export function randomQwen2Weights(config: OnnxModelConfig, seed = 1): Map<string, Float32Array> {
  const rng = createRng(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of qwen2WeightShapes(config)) {
    const w = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith("norm.weight")) w.fill(1);
    else for (let i = 0; i < w.length; i++) w[i] = 0.2 * rng.nextNormal();
    weights.set(name, w);
  }
  return weights;
}

/** ONNX bytes of `config` with {@linkcode randomQwen2Weights}. */
export function randomQwen2Onnx(config: OnnxModelConfig, seed = 1): Uint8Array {
  return exportOnnx(config, randomQwen2Weights(config, seed));
}

/** Writes a model folder with the character tokenizer and a random Qwen2 of the given shapes. */
export async function writeQwen2ModelDir(
  dir: string,
  overrides: Partial<OnnxModelConfig> = {},
): Promise<void> {
  const tokenizer = createCharTokenizer();
  const config = tinyQwen2Config(tokenizer.vocabSize, overrides);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/model.onnx`, randomQwen2Onnx(config));
  const hf = {
    ...config,
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    eos_token_id: tokenizer.eosId,
  };
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(hf));
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(tokenizer.toJSON()));
}
