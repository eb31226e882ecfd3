/**
 * Token-level importance weights from the token reward model's scores (docs/OREAL.md step 5).
 *
 * @module
 */

/** How a token's score becomes q_t: the released trainer's prefix mean, or the paper's per-token sigmoid. */
export type WeightMode = "prefix-mean" | "per-token";

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Positive and negative token weights for one response of T tokens with reward-model scores w_1..w_T:
 * c_t = (1/t) sum_{k<=t} w_k ("prefix-mean", default) or c_t = w_t ("per-token"), q_t = sigmoid(c_t),
 * omega+_t = clamp(2 q_t - 1, 0, 1) and omega-_t = clamp(1 - 2 q_t, 0, 1). Throws on a non-finite score
 * (naming the token) or an unknown mode.
 */
export function tokenWeights(
  scores: Float32Array,
  mode: WeightMode = "prefix-mean",
): { positive: Float32Array; negative: Float32Array } {
  if (mode !== "prefix-mean" && mode !== "per-token") {
    throw new RangeError(`tokenWeights: unknown mode "${mode}" (expected "prefix-mean" or "per-token")`);
  }
  const n = scores.length;
  const positive = new Float32Array(n);
  const negative = new Float32Array(n);
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const w = scores[t];
    if (!Number.isFinite(w)) throw new RangeError(`tokenWeights: score at token ${t} is not finite (${w})`);
    sum += w;
    const c = mode === "prefix-mean" ? sum / (t + 1) : w;
    const d = 2 * sigmoid(c) - 1;
    positive[t] = Math.min(1, Math.max(0, d));
    negative[t] = Math.min(1, Math.max(0, -d));
  }
  return { positive, negative };
}
