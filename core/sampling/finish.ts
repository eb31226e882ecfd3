/**
 * Why a generated sequence ended, as the trainer's decoder, its rollout store and the edge server (OpenAI's
 * `finish_reason`) name it.
 *
 * @module
 */

/** `stop`: the model emitted a stop token (or the text reached a stop string); `length`: the token budget ran out. */
export type FinishReason = "stop" | "length";

/** Every {@linkcode FinishReason}. */
export const FINISH_REASONS: readonly FinishReason[] = ["stop", "length"];
