/**
 * Multi-digit addition, subtraction and multiplication with column-by-column worked solutions.
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";
import { boxed, type Generated, type Level, randInt } from "./common.ts";

const COLUMNS = ["ones", "tens", "hundreds", "thousands", "ten thousands", "hundred thousands", "millions"];

function digits(n: number, width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    out.push(n % 10);
    n = Math.floor(n / 10);
  }
  return out;
}

function randDigits(rng: Rng, minDigits: number, maxDigits: number): number {
  const d = randInt(rng, minDigits, maxDigits);
  return randInt(rng, d === 1 ? 0 : 10 ** (d - 1), 10 ** d - 1);
}

function columnAddition(a: number, b: number): string[] {
  const width = String(Math.max(a, b)).length;
  const da = digits(a, width);
  const db = digits(b, width);
  const lines: string[] = [];
  let carry = 0;
  for (let i = 0; i < width; i++) {
    const s = da[i] + db[i] + carry;
    lines.push(
      `${COLUMNS[i]}: ${da[i]} + ${db[i]}${carry ? " + 1" : ""} = ${s}, write ${s % 10}${
        s >= 10 ? ", carry 1" : ""
      }`,
    );
    carry = s >= 10 ? 1 : 0;
  }
  if (carry) lines.push(`${COLUMNS[width]}: write the carry 1`);
  return lines;
}

function columnSubtraction(a: number, b: number): string[] {
  const width = String(a).length;
  const da = digits(a, width);
  const db = digits(b, width);
  const lines: string[] = [];
  let borrow = 0;
  for (let i = 0; i < width; i++) {
    const x = da[i] - borrow;
    const head = `${COLUMNS[i]}: ${borrow ? `${da[i]} - 1 = ${x}, ` : ""}`;
    if (x < db[i]) {
      lines.push(`${head}${x + 10} - ${db[i]} = ${x + 10 - db[i]}, borrow 1`);
      borrow = 1;
    } else {
      lines.push(`${head}${x} - ${db[i]} = ${x - db[i]}`);
      borrow = 0;
    }
  }
  return lines;
}

/** Addition. Level 1: numbers below 100, one line; 2: three digits, by columns; 3: 4 to 6 digits, by columns. */
export function addition(rng: Rng, level: Level): Generated {
  const [a, b] = level === 1
    ? [randInt(rng, 0, 99), randInt(rng, 0, 99)]
    : level === 2
    ? [randInt(rng, 100, 999), randInt(rng, 100, 999)]
    : [randDigits(rng, 4, 6), randDigits(rng, 3, 6)];
  const s = a + b;
  const gold = String(s);
  const prompt = `What is ${a} + ${b}?`;
  if (level === 1) return { prompt, gold, solution: `${a} + ${b} = ${s}. ${boxed(gold)}` };
  const lines = columnAddition(a, b);
  return { prompt, gold, solution: `${lines.join("\n")}\nSo ${a} + ${b} = ${s}. ${boxed(gold)}` };
}

/**
 * Subtraction. Level 1: a >= b below 100, one line; 2: a three-digit minuend, by columns with borrows;
 * 3: 4 to 6 digits, the result may be negative (subtract the other way and negate).
 */
export function subtraction(rng: Rng, level: Level): Generated {
  let a: number;
  let b: number;
  if (level === 1) {
    a = randInt(rng, 0, 99);
    b = randInt(rng, 0, a);
  } else if (level === 2) {
    a = randInt(rng, 100, 999);
    b = randInt(rng, 10, a);
  } else {
    a = randDigits(rng, 4, 6);
    b = randDigits(rng, 3, 6);
  }
  const d = a - b;
  const gold = String(d);
  const prompt = `What is ${a} - ${b}?`;
  if (level === 1) return { prompt, gold, solution: `${a} - ${b} = ${d}. ${boxed(gold)}` };
  const lines = d >= 0
    ? columnSubtraction(a, b)
    : [`${a} < ${b}, so compute ${b} - ${a} and negate.`, ...columnSubtraction(b, a)];
  return { prompt, gold, solution: `${lines.join("\n")}\nSo ${a} - ${b} = ${d}. ${boxed(gold)}` };
}

/**
 * Multiplication. Level 1: factors 0 to 12, one line; 2: two digits times one digit, split into tens and ones;
 * 3: three digits times two digits, split the second factor into tens and ones.
 */
export function multiplication(rng: Rng, level: Level): Generated {
  if (level === 1) {
    const a = randInt(rng, 0, 12);
    const b = randInt(rng, 0, 12);
    const gold = String(a * b);
    return { prompt: `What is ${a} * ${b}?`, gold, solution: `${a} * ${b} = ${a * b}. ${boxed(gold)}` };
  }
  if (level === 2) {
    const a = randInt(rng, 13, 99);
    const b = randInt(rng, 2, 9);
    const t = a - (a % 10);
    const o = a % 10;
    const gold = String(a * b);
    return {
      prompt: `What is ${a} * ${b}?`,
      gold,
      solution: `${a} * ${b} = ${t} * ${b} + ${o} * ${b} = ${t * b} + ${o * b} = ${a * b}. ${boxed(gold)}`,
    };
  }
  const a = randInt(rng, 100, 999);
  const b = randInt(rng, 11, 99);
  const t = b - (b % 10);
  const o = b % 10;
  const gold = String(a * b);
  return {
    prompt: `What is ${a} * ${b}?`,
    gold,
    solution: `${a} * ${b} = ${a} * ${t} + ${a} * ${o} = ${a * t} + ${a * o} = ${a * b}. ${boxed(gold)}`,
  };
}
