/**
 * 95% confidence intervals for the figures the trainer reports: a proportion (Wilson score), the mean of
 * per-item values (normal approximation), a paired difference of two proportions measured on the same items,
 * and a mean over a few seeds (Student's t).
 *
 * @module
 */

/** A closed interval `[low, high]`. */
export type Interval = [number, number];

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of a proportion with `successes` out of `n` trials (95% by default). Unlike the Wald
 * interval it stays inside [0, 1] and is not empty at 0 or n successes. Throws when n is not a positive
 * integer or successes is outside [0, n].
 */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`wilsonInterval: n must be a positive integer, got ${n}`);
  }
  if (!(successes >= 0 && successes <= n)) {
    throw new RangeError(`wilsonInterval: successes must be in [0, ${n}], got ${successes}`);
  }
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Mean and unbiased variance of `values` (variance 0 for fewer than two values). */
function meanVariance(values: readonly number[]): { mean: number; variance: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, variance };
}

/**
 * Normal-approximation interval of the mean of per-item values (for example each problem's accuracy over k
 * samples): mean ± z·sd/√n. Throws on an empty list.
 */
export function meanInterval(values: readonly number[], z = Z95): Interval {
  if (values.length === 0) throw new RangeError("meanInterval: no values");
  const { mean, variance } = meanVariance(values);
  const half = z * Math.sqrt(variance / values.length);
  return [mean - half, mean + half];
}

/**
 * Interval of the difference `after − before` of two proportions measured on the same items (`before[i]` and
 * `after[i]` are item i's 0/1 outcomes): the mean of the per-item differences ± z times their standard error.
 * Pairing removes the between-item variance, so it is narrower than comparing two independent intervals.
 * Throws on lists of different or zero length.
 */
export function pairedDifferenceInterval(
  before: readonly number[],
  after: readonly number[],
  z = Z95,
): Interval {
  if (before.length !== after.length || before.length === 0) {
    throw new RangeError(
      `pairedDifferenceInterval: need two lists of the same non-zero length, got ${before.length} and ${after.length}`,
    );
  }
  return meanInterval(after.map((a, i) => a - before[i]), z);
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (index = df − 1). */
const T975 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/**
 * 95% Student's t interval of the mean of a few independent runs (seeds): mean ± t(0.975, n−1)·sd/√n; a single
 * value gives the degenerate interval [v, v]. Beyond 30 runs the normal quantile is used. Throws on an empty list.
 */
export function seedInterval(values: readonly number[]): Interval {
  if (values.length === 0) throw new RangeError("seedInterval: no values");
  const { mean, variance } = meanVariance(values);
  if (values.length === 1) return [mean, mean];
  const t = values.length - 1 <= T975.length ? T975[values.length - 2] : Z95;
  const half = t * Math.sqrt(variance / values.length);
  return [mean - half, mean + half];
}
