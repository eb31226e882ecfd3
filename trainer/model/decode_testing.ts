/**
 * Test helpers for decoding and export: a Qwen2 model with large random weights (well separated logits, so
 * greedy choices are stable under rounding) on any backend, and a from-scratch logits reference.
 *
 * @module
 */

import type { Backend } from "../gpu/backend.ts";
import { createRng } from "../../core/random/mod.ts";
import { type ModelConfig, presetConfig } from "./config.ts";
import { createModel, type Model } from "./model.ts";

/** The `tiny` preset (grouped-query attention, a tied LM head) with a 37-symbol vocabulary. */
export const TEST_CONFIG: ModelConfig = presetConfig("tiny", { vocabSize: 37 });

/** A model on `backend` with random weights of a larger scale than the initialisation, and those weights by name. */
export function randomTestModel(
  backend: Backend,
  config: ModelConfig = TEST_CONFIG,
  seed = 1,
): { model: Model; weights: Map<string, Float32Array> } {
  const model = createModel(config, backend, { seed });
  const rng = createRng(seed);
  const weights = new Map<string, Float32Array>();
  for (const s of model.layout.specs) {
    const scale = s.name.includes("norm") ? 0.1 : s.name.endsWith("bias") ? 0.05 : 0.3;
    const w = Float32Array.from(
      { length: s.size },
      () => (s.init === "ones" ? 1 : 0) + scale * rng.nextNormal(),
    );
    model.setParam(s.name, w);
    weights.set(s.name, w);
  }
  return { model, weights };
}

/** The logits `[tokens.length, vocab]` of every position, encoding the whole sequence into a fresh cache. */
export async function fullLogits(model: Model, tokens: readonly number[]): Promise<Float32Array> {
  const cache = model.createKvCache(1, tokens.length);
  const out = model.backend.alloc(tokens.length * model.config.vocab_size);
  try {
    const hidden = model.forwardCached(cache, Int32Array.from(tokens), tokens.length, new Int32Array(1));
    model.lmLogits(hidden, tokens.length, out);
    return await model.backend.download(out);
  } finally {
    model.freeKvCache(cache);
    model.backend.free(out);
  }
}
