/**
 * The token reward model's training loss (docs/OREAL.md step 6).
 *
 * @module
 */

/**
 * Binary cross-entropy of sigmoid(mean_t w_t) against y = 1 (correct) or 0 (wrong), computed stably as
 * softplus(m) - y m with m the mean score, and its gradient per token dL/dw_t = (sigmoid(m) - y) / T.
 * A zero-length response carries no signal: loss 0 and an empty gradient. Throws on a non-finite score
 * (naming the token).
 */
export function rewardModelLoss(
  scores: Float32Array,
  correct: boolean,
): { loss: number; dScores: Float32Array } {
  const n = scores.length;
  const dScores = new Float32Array(n);
  if (n === 0) return { loss: 0, dScores };
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const w = scores[t];
    if (!Number.isFinite(w)) {
      throw new RangeError(`rewardModelLoss: score at token ${t} is not finite (${w})`);
    }
    sum += w;
  }
  const m = sum / n;
  const y = correct ? 1 : 0;
  const softplus = m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
  const sig = m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
  const g = (sig - y) / n;
  dScores.fill(g);
  return { loss: softplus - y * m, dScores };
}
