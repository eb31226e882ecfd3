/**
 * Short word problems from templates (names, objects, one to three operations).
 *
 * @module
 */

import type { Rng } from "../../random/mod.ts";
import { boxed, type Generated, type Level, pick, randInt } from "./common.ts";

const PEOPLE: readonly (readonly [string, string])[] = [
  ["Tom", "he"],
  ["Ann", "she"],
  ["Sam", "he"],
  ["Mia", "she"],
  ["Ben", "he"],
  ["Eva", "she"],
  ["Leo", "he"],
  ["Zoe", "she"],
];
const THINGS = ["apples", "pens", "books", "cards", "eggs", "coins", "stickers", "marbles"];

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function answer(prompt: string, steps: string[], value: number): Generated {
  const gold = String(value);
  return { prompt, gold, solution: `${steps.join(" ")} ${boxed(gold)}` };
}

/**
 * Word problems. Level 1: one operation (+, -, *) on numbers up to 20; 2: two operations (or an equal share);
 * 3: three operations or a division then a product, with larger numbers.
 */
export function word(rng: Rng, level: Level): Generated {
  const [name, he] = pick(rng, PEOPLE);
  const things = pick(rng, THINGS);
  const kind = rng.nextInt(3);
  if (level === 1) {
    const a = randInt(rng, 1, 20);
    const b = randInt(rng, 1, 20);
    if (kind === 0) {
      return answer(`${name} has ${a} ${things} and buys ${b} more. How many ${things} does ${he} have?`, [
        `${a} + ${b} = ${a + b}.`,
      ], a + b);
    }
    if (kind === 1) {
      const [x, y] = a >= b ? [a, b] : [b, a];
      return answer(`${name} has ${x} ${things} and gives away ${y}. How many ${things} are left?`, [
        `${x} - ${y} = ${x - y}.`,
      ], x - y);
    }
    const n = randInt(rng, 2, 9);
    return answer(`${name} buys ${n} bags of ${a} ${things}. How many ${things} is that?`, [
      `${n} * ${a} = ${n * a}.`,
    ], n * a);
  }
  if (level === 2) {
    if (kind === 0) {
      const [a, b] = [randInt(rng, 5, 50), randInt(rng, 5, 50)];
      const c = randInt(rng, 1, a + b);
      return answer(
        `${name} has ${a} ${things}, buys ${b} more and gives away ${c}. How many ${things} does ${he} have now?`,
        [`${a} + ${b} = ${a + b}.`, `${a + b} - ${c} = ${a + b - c}.`],
        a + b - c,
      );
    }
    if (kind === 1) {
      const [a, n] = [randInt(rng, 2, 12), randInt(rng, 2, 9)];
      const c = randInt(rng, 1, a * n);
      return answer(
        `A box holds ${a} ${things}. ${name} buys ${n} boxes and uses ${c} ${things}. How many are left?`,
        [`${n} * ${a} = ${n * a}.`, `${n * a} - ${c} = ${n * a - c}.`],
        n * a - c,
      );
    }
    const [each, n] = [randInt(rng, 2, 12), randInt(rng, 2, 9)];
    return answer(
      `${name} shares ${each * n} ${things} equally among ${n} friends. How many does each friend get?`,
      [`${each * n} / ${n} = ${each}.`],
      each,
    );
  }
  if (kind === 2) {
    const [size, bags, price] = [randInt(rng, 2, 12), randInt(rng, 2, 30), randInt(rng, 2, 20)];
    return answer(
      `${name} has ${size * bags} ${things}. ${
        cap(he)
      } packs them in bags of ${size} and sells each bag for ` +
        `${price} dollars. How many dollars does ${he} get?`,
      [`${size * bags} / ${size} = ${bags} bags.`, `${bags} * ${price} = ${bags * price}.`],
      bags * price,
    );
  }
  const [pay, days] = [randInt(rng, 5, 60), randInt(rng, 2, 14)];
  const spend = randInt(rng, 1, pay * days);
  const more = randInt(rng, 1, 100);
  return answer(
    `${name} earns ${pay} dollars a day for ${days} days, spends ${spend} dollars, then earns ${more} more. ` +
      `How many dollars does ${he} have?`,
    [
      `${pay} * ${days} = ${pay * days}.`,
      `${pay * days} - ${spend} = ${pay * days - spend}.`,
      `${pay * days - spend} + ${more} = ${pay * days - spend + more}.`,
    ],
    pay * days - spend + more,
  );
}
