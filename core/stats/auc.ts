/**
 * Area under the ROC curve of a score that should rank positives above negatives.
 *
 * @module
 */

/**
 * ROC AUC of `positive` against `negative` scores: the probability that a random positive scores above a random
 * negative, ties counting one half (the Mann-Whitney U statistic over n+·n−). O((n+ + n−) log(n+ + n−)).
 * Returns null when either list is empty (AUC is undefined). Throws on a non-finite score.
 */
export function rocAuc(positive: readonly number[], negative: readonly number[]): number | null {
  if (positive.length === 0 || negative.length === 0) return null;
  const all: { v: number; pos: boolean }[] = [];
  for (const v of positive) all.push({ v, pos: true });
  for (const v of negative) all.push({ v, pos: false });
  for (const { v } of all) if (!Number.isFinite(v)) throw new RangeError(`rocAuc: score ${v} is not finite`);
  all.sort((a, b) => a.v - b.v);
  // Sum of the (1-based, tie-averaged) ranks of the positives.
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].v === all[i].v) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k].pos) rankSum += rank;
    i = j;
  }
  const np = positive.length, nn = negative.length;
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}
