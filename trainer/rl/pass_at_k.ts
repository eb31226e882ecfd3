/**
 * The unbiased pass@k estimator (Chen et al. 2021): with n samples of which c are correct,
 * pass@k = 1 - C(n - c, k) / C(n, k), computed as a stable product.
 *
 * @module
 */

/** pass@k of one problem from `n` samples with `c` correct. Throws unless 0 <= c <= n and 1 <= k <= n. */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`passAtK: need integers 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/** Mean pass@k over problems, each given as its number of correct samples out of `n`. */
export function meanPassAtK(correctCounts: readonly number[], n: number, k: number): number {
  if (correctCounts.length === 0) throw new RangeError("meanPassAtK: no problems");
  return correctCounts.reduce((s, c) => s + passAtK(n, c, k), 0) / correctCounts.length;
}
