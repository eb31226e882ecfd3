/**
 * When two numbers count as equal: the one tolerance rule of the verifier, used by its plain-number fast path and
 * by the comparison of evaluated expressions.
 *
 * @module
 */

/** A complex value; a real number has `im` 0. */
export interface ComplexValue {
  re: number;
  im: number;
}

/** How decimals are compared: rounded to `decimalPlaces` places when set, else within relative `relTol`. */
export interface ToleranceRule {
  relTol: number;
  decimalPlaces: number | null;
}

/** `x` rounded to `places` decimals. */
export function roundTo(x: number, places: number): number {
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

/** Relative closeness within `tol`; against an exact zero, rounding noise up to 1e-12 still counts as zero. */
export function close(a: ComplexValue, b: ComplexValue, tol: number): boolean {
  const ma = Math.hypot(a.re, a.im), mb = Math.hypot(b.re, b.im);
  if (ma === 0 || mb === 0) return Math.max(ma, mb) <= 1e-12;
  return Math.hypot(a.re - b.re, a.im - b.im) <= tol * Math.max(ma, mb);
}

/** Whether two values that involve a decimal agree under `rule`. */
export function decimalsAgree(a: ComplexValue, b: ComplexValue, rule: ToleranceRule): boolean {
  const k = rule.decimalPlaces;
  if (k !== null) return roundTo(a.re, k) === roundTo(b.re, k) && roundTo(a.im, k) === roundTo(b.im, k);
  return close(a, b, rule.relTol);
}
