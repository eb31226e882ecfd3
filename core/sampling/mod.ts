/**
 * Logit processing shared by the trainer's decoder and the edge server: greedy and temperature / top-k /
 * top-p sampling with a seeded {@linkcode Rng}, log-softmax, and stop conditions. No I/O, no dependencies.
 *
 * ```ts
 * import { createRng } from "../random/mod.ts";
 * import { sampleToken } from "./mod.ts";
 * const id = sampleToken(new Float32Array([1, 2, 3]), { temperature: 0.7, topP: 0.9 }, createRng(1));
 * ```
 *
 * @module
 */

export type { Rng } from "../random/mod.ts";
export {
  argmax,
  logSoftmax,
  type ResolvedSamplingParams,
  resolveSamplingParams,
  sampleToken,
  type SamplingParams,
  TokenSampler,
} from "./sampler.ts";
export { FINISH_REASONS, type FinishReason } from "./finish.ts";
export { endsWithSequence, stopHoldback, StopTokens, type TextStop, truncateAtStop } from "./stop.ts";
