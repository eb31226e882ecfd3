/**
 * Exact rational numbers on BigInt, used to compare answers such as `\frac{10}{9}` and `10/9` without
 * rounding. Every operation bounds the size of its result, so `2^{10^9}` cannot exhaust memory.
 *
 * @module
 */

import { LIMITS } from "./budget.ts";

/** A rational number `num / den` in lowest terms with `den > 0`. */
export interface Rational {
  /** Numerator (carries the sign). */
  num: bigint;
  /** Denominator, always positive. */
  den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bits(x: bigint): number {
  return (x < 0n ? -x : x).toString(16).length * 4;
}

/** Builds `num / den` in lowest terms; returns null for a zero denominator or an oversized result. */
export function rational(num: bigint, den: bigint = 1n): Rational | null {
  if (den === 0n) return null;
  if (den < 0n) [num, den] = [-num, -den];
  const g = gcd(num, den);
  if (g > 1n) [num, den] = [num / g, den / g];
  if (bits(num) + bits(den) > LIMITS.maxExactBits) return null;
  return { num, den };
}

/** Parses a plain decimal literal (`12`, `0.25`, `.5`, `1.5e-3`) exactly; null when it is not one. */
export function parseDecimal(text: string): Rational | null {
  const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text);
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) return null;
  const frac = m[2] ?? "";
  let num = BigInt((m[1] || "0") + frac);
  let den = 10n ** BigInt(frac.length);
  const exp = m[3] ? Number(m[3]) : 0;
  if (Math.abs(exp) > LIMITS.maxExactExponent) return null;
  if (exp > 0) num *= 10n ** BigInt(exp);
  if (exp < 0) den *= 10n ** BigInt(-exp);
  return rational(num, den);
}

/** `a + b`. */
export function add(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

/** `a - b`. */
export function sub(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

/** `a * b`. */
export function mul(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.num, a.den * b.den);
}

/** `a / b`; null when `b` is zero. */
export function div(a: Rational, b: Rational): Rational | null {
  return rational(a.num * b.den, a.den * b.num);
}

/** `a ^ b` when `b` is an integer of bounded size and the result stays small; otherwise null. */
export function pow(a: Rational, b: Rational): Rational | null {
  if (b.den !== 1n) return null;
  const e = b.num < 0n ? -b.num : b.num;
  if (e > BigInt(LIMITS.maxExactExponent)) return null;
  if (a.num === 0n) return b.num < 0n ? null : rational(b.num === 0n ? 1n : 0n);
  if ((bits(a.num) + bits(a.den)) * Number(e) > LIMITS.maxExactBits * 2) return null;
  const n = a.num ** e, d = a.den ** e;
  return b.num < 0n ? rational(d, n) : rational(n, d);
}

/** True when both rationals are the same number. */
export function equals(a: Rational, b: Rational): boolean {
  return a.num === b.num && a.den === b.den;
}

/** The nearest double. */
export function toNumber(r: Rational): number {
  const n = Number(r.num), d = Number(r.den);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Scale both down to keep the quotient finite when the parts overflow a double.
  const shift = BigInt(Math.max(bits(r.num), bits(r.den)) - 900);
  return Number(r.num >> shift) / Number(r.den >> shift);
}
