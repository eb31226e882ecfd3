/**
 * Problem families whose worked solutions are faithful chains: every step follows from the question and the
 * steps before it, and the answer follows from the last step, so a wrong answer has a first wrong step that
 * can be located. Each solution comes with its `chain`: the segments that concatenate to it, one per step.
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";
import { boxed, type Generated, type Level, randInt } from "./common.ts";

/** Joins chain steps into a solution: `step, step, step. \boxed{gold}`, keeping each step's separator. */
function chainSolution(steps: readonly string[], gold: string): string[] {
  const segments = steps.map((s, i) => `${s}${i < steps.length - 1 ? ", " : ". "}`);
  segments.push(boxed(gold));
  return segments;
}

/**
 * Running sums. Level 1: four terms 1..9 added (`3+5=8, 8+7=15, 15+9=24. \boxed{24}`); 2: four terms 1..9,
 * each added or subtracted (a subtraction only while the running value stays non-negative); 3: five or six
 * terms 1..19, added or subtracted. Each step carries the running value forward, so one slip changes the answer.
 */
export function runningSum(rng: Rng, level: Level): Generated {
  const count = level === 3 ? randInt(rng, 5, 6) : 4;
  const hi = level === 3 ? 19 : 9;
  let value = randInt(rng, 1, hi);
  let question = String(value);
  const steps: string[] = [];
  for (let i = 1; i < count; i++) {
    const term = randInt(rng, 1, hi);
    const minus = level > 1 && term <= value && rng.nextInt(2) === 1;
    const next = minus ? value - term : value + term;
    const op = minus ? "-" : "+";
    question += `${op}${term}`;
    steps.push(`${value}${op}${term}=${next}`);
    value = next;
  }
  const gold = String(value);
  const chain = chainSolution(steps, gold);
  return { prompt: `What is ${question}?`, gold, solution: chain.join(""), chain };
}

/**
 * Column addition with explicit carries, ones column first: `What is 476+358?` is solved as
 * `6+8=14, 7+5+1=13, 4+3+1=8, so 834. \boxed{834}` (each column's sum includes the carry of the one before,
 * and the answer is read off the columns' last digits). Level 1: two 2-digit numbers; 2: 3 digits; 3: 4 digits.
 */
export function carryAddition(rng: Rng, level: Level): Generated {
  const width = level + 1;
  const a = randInt(rng, 10 ** (width - 1), 10 ** width - 1);
  const b = randInt(rng, 10 ** (width - 1), 10 ** width - 1);
  const steps: string[] = [];
  let carry = 0;
  let x = a, y = b;
  for (let i = 0; i < width; i++) {
    const [da, db] = [x % 10, y % 10];
    const s = da + db + carry;
    steps.push(`${da}+${db}${carry ? "+1" : ""}=${s}`);
    carry = s >= 10 ? 1 : 0;
    x = Math.floor(x / 10);
    y = Math.floor(y / 10);
  }
  const gold = String(a + b);
  steps.push(`so ${gold}`);
  const chain = chainSolution(steps, gold);
  return { prompt: `What is ${a}+${b}?`, gold, solution: chain.join(""), chain };
}
