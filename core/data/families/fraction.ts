/**
 * Fraction arithmetic with answers in lowest terms (`\frac{a}{b}`).
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";
import { boxed, gcd, type Generated, type Level, pick, randInt } from "./common.ts";

/** LaTeX of n/d in lowest terms: an integer when d divides n, else `\frac{n}{d}` with the sign in front. */
export function latexFraction(n: number, d: number): string {
  const g = gcd(n, d);
  const [a, b] = [n / g, d / g];
  if (b === 1) return String(a);
  return `${a < 0 ? "-" : ""}\\frac{${Math.abs(a)}}{${b}}`;
}

/** " = 3/4" steps that reduce n/d to lowest terms (empty when it already is). */
function reduce(n: number, d: number): string {
  const g = gcd(n, d);
  if (g <= 1) return "";
  return d / g === 1 ? ` = ${n / g}` : ` = ${n / g}/${d / g}`;
}

function finish(prompt: string, steps: string, n: number, d: number): Generated {
  const gold = latexFraction(n, d);
  return { prompt, gold, solution: `${steps}${reduce(n, d)}. ${boxed(gold)}` };
}

/**
 * Fractions. Level 1: add two fractions with the same denominator (2..9); 2: add or subtract with different
 * denominators (2..12) through the least common denominator, non-negative results; 3: multiply, divide, or
 * subtract with a possibly negative result.
 */
export function fraction(rng: Rng, level: Level): Generated {
  if (level === 1) {
    const d = randInt(rng, 2, 9);
    const a = randInt(rng, 1, d - 1);
    const b = randInt(rng, 1, d - 1);
    return finish(`What is ${a}/${d} + ${b}/${d}?`, `${a}/${d} + ${b}/${d} = ${a + b}/${d}`, a + b, d);
  }
  let d1 = randInt(rng, 2, 12);
  let d2 = randInt(rng, 2, 12);
  while (d2 === d1) d2 = randInt(rng, 2, 12);
  let a = randInt(rng, 1, d1 - 1);
  let b = randInt(rng, 1, d2 - 1);
  const op = level === 2 ? pick(rng, ["+", "-"]) : pick(rng, ["*", "/", "-"]);
  if (level === 2 && op === "-" && a * d2 < b * d1) [a, b, d1, d2] = [b, a, d2, d1];
  const prompt = `What is ${a}/${d1} ${op === "/" ? "divided by" : op} ${b}/${d2}?`;
  if (op === "*") return finish(prompt, `${a}/${d1} * ${b}/${d2} = ${a * b}/${d1 * d2}`, a * b, d1 * d2);
  if (op === "/") {
    return finish(
      prompt,
      `${a}/${d1} / (${b}/${d2}) = ${a}/${d1} * ${d2}/${b} = ${a * d2}/${d1 * b}`,
      a * d2,
      d1 * b,
    );
  }
  const l = (d1 * d2) / gcd(d1, d2);
  const [x, y] = [a * (l / d1), b * (l / d2)];
  const r = op === "+" ? x + y : x - y;
  return finish(prompt, `${a}/${d1} ${op} ${b}/${d2} = ${x}/${l} ${op} ${y}/${l} = ${r}/${l}`, r, l);
}
