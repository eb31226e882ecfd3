/**
 * Shared pieces of the problem families: the generated record, difficulty levels and small number helpers.
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";

/** Difficulty levels of every family: 1 = short prompt and one-line solution, 3 = hardest. */
export type Level = 1 | 2 | 3;

/** Every level, easiest first. */
export const LEVELS: readonly Level[] = [1, 2, 3];

/** What a family generator returns: the question, the gold answer (LaTeX) and a worked solution. */
export interface Generated {
  /** The question. */
  prompt: string;
  /** The gold answer in LaTeX. */
  gold: string;
  /** Step-by-step solution ending in `\boxed{gold}`. */
  solution: string;
  /** The solution cut into its steps (they concatenate to `solution`), for families with faithful chains. */
  chain?: string[];
}

/** A family generator: one problem of `level`, drawn with `rng`. */
export type FamilyGenerator = (rng: Rng, level: Level) => Generated;

/** A uniform integer in [lo, hi] (inclusive). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + rng.nextInt(hi - lo + 1);
}

/** A uniformly chosen element of `items`. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.nextInt(items.length)];
}

/** Greatest common divisor of |a| and |b| (gcd(0, 0) = 0). */
export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The solution's last words: `{text} \boxed{gold}`. */
export function boxed(gold: string): string {
  return `\\boxed{${gold}}`;
}
