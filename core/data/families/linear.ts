/**
 * Linear equations in x with integer solutions; the answer is `x = v`.
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";
import { boxed, type Generated, type Level, randInt } from "./common.ts";

function term(k: number): string {
  return k === 1 ? "x" : `${k}x`;
}

function signed(k: number): string {
  return k < 0 ? `- ${-k}` : `+ ${k}`;
}

function done(prompt: string, steps: string, x: number): Generated {
  const gold = `x = ${x}`;
  return { prompt, gold, solution: `${steps} ${boxed(gold)}` };
}

/**
 * Linear equations. Level 1: x + a = b or x - a = b (x in 0..20); 2: ax + b = c or ax - b = c (a in 2..9);
 * 3: ax + b = cx + d with a > c, x in -10..10.
 */
export function linear(rng: Rng, level: Level): Generated {
  if (level === 1) {
    const x = randInt(rng, 0, 20);
    const a = randInt(rng, 1, 20);
    if (rng.nextInt(2) === 0) return done(`Solve x + ${a} = ${x + a}.`, `x = ${x + a} - ${a} = ${x}.`, x);
    return done(`Solve x - ${a} = ${x - a}.`, `x = ${x - a} + ${a} = ${x}.`, x);
  }
  if (level === 2) {
    const a = randInt(rng, 2, 9);
    const x = randInt(rng, 0, 12);
    const b = randInt(rng, 1, 20) * (rng.nextInt(2) === 0 ? 1 : -1);
    const c = a * x + b;
    const move = b > 0 ? `${c} - ${b}` : `${c} + ${-b}`;
    return done(
      `Solve ${term(a)} ${signed(b)} = ${c}.`,
      `${term(a)} = ${move} = ${a * x}. x = ${a * x} / ${a} = ${x}.`,
      x,
    );
  }
  const c = randInt(rng, 1, 8);
  const a = randInt(rng, c + 1, 9);
  const x = randInt(rng, -10, 10);
  const b = randInt(rng, 1, 20);
  const d = (a - c) * x + b;
  const k = a - c;
  const isolate = `${term(a)} - ${term(c)} = ${d} - ${b}, so ${term(k)} = ${k * x}.`;
  return done(
    `Solve ${term(a)} + ${b} = ${term(c)} ${signed(d)}.`,
    k === 1 ? `${isolate}` : `${isolate} x = ${k * x} / ${k} = ${x}.`,
    x,
  );
}
