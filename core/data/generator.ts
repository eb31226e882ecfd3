/**
 * The seeded problem generator: families of graded difficulty, reproducible from a seed, with train and test
 * splits decided by a hash of each problem's text so that they never share a problem.
 *
 * @module
 */

import { createRng } from "../random/mod.ts";
import { addition, multiplication, subtraction } from "./families/arithmetic.ts";
import type { FamilyGenerator, Level } from "./families/common.ts";
import { LEVELS } from "./families/common.ts";
import { carryAddition, runningSum } from "./families/chain.ts";
import { expression } from "./families/expression.ts";
import { fraction } from "./families/fraction.ts";
import { linear } from "./families/linear.ts";
import { word } from "./families/word.ts";
import { hash64 } from "./hash.ts";
import type { Problem } from "./problem.ts";

/** The generated problem families. */
export type Family =
  | "addition"
  | "subtraction"
  | "multiplication"
  | "expression"
  | "fraction"
  | "linear"
  | "word"
  | "chain"
  | "carry";

const GENERATORS: Record<Family, FamilyGenerator> = {
  addition,
  subtraction,
  multiplication,
  expression,
  fraction,
  linear,
  word,
  chain: runningSum,
  carry: carryAddition,
};

/** Every family name. */
export const FAMILIES: readonly Family[] = Object.keys(GENERATORS) as Family[];

/** Which split a problem belongs to. */
export type Split = "train" | "test";

/** One problem in this many goes to the test split. */
export const TEST_FRACTION_DENOMINATOR = 8;

/**
 * The split of a generated problem, from a hash of its prompt (the prompt determines the problem): "test" for
 * about 1 in {@linkcode TEST_FRACTION_DENOMINATOR}, else "train".
 */
export function problemSplit(prompt: string): Split {
  return hash64(prompt)[0] % TEST_FRACTION_DENOMINATOR === 0 ? "test" : "train";
}

/** Options of {@linkcode generateProblems}. */
export interface GenerateOptions {
  /** Seed of the random stream: the same options give the same problems. */
  seed: number;
  /** How many problems. */
  count: number;
  /** Keep only problems of this split. */
  split: Split;
  /** Families to draw from, uniformly (default: all). */
  families?: readonly Family[];
  /** Levels to draw from, uniformly (default: 1, 2, 3). */
  levels?: readonly Level[];
}

function checkOptions(o: GenerateOptions): void {
  if (!Number.isFinite(o.seed)) {
    throw new RangeError(`generateProblems: seed must be a finite number, got ${o.seed}`);
  }
  if (!Number.isInteger(o.count) || o.count < 0) {
    throw new RangeError(`generateProblems: count must be a non-negative integer, got ${o.count}`);
  }
  if (o.split !== "train" && o.split !== "test") {
    throw new RangeError(`generateProblems: split must be "train" or "test", got "${o.split}"`);
  }
  for (const f of o.families ?? []) {
    if (!FAMILIES.includes(f)) {
      throw new RangeError(
        `generateProblems: unknown family "${f}" (expected one of ${FAMILIES.join(", ")})`,
      );
    }
  }
  for (const l of o.levels ?? []) {
    if (!LEVELS.includes(l)) {
      throw new RangeError(`generateProblems: unknown level ${l} (expected 1, 2 or 3)`);
    }
  }
  if (o.families?.length === 0 || o.levels?.length === 0) {
    throw new RangeError("generateProblems: families and levels must not be empty when given");
  }
}

/**
 * Generates `count` problems of `split`, each from a family and a level drawn uniformly, with a step-by-step
 * solution ending in `\boxed{gold}`. Problems of the other split are skipped (so "test" costs about 8 times more
 * draws); the same problem may occur twice in a large set. `id` is `gen-{family}-{level}-{hash}` and `source`
 * `gen/{family}`. Throws on invalid options.
 */
export function generateProblems(options: GenerateOptions): Problem[] {
  checkOptions(options);
  const rng = createRng(options.seed);
  const families = options.families ?? FAMILIES;
  const levels = options.levels ?? LEVELS;
  const out: Problem[] = [];
  while (out.length < options.count) {
    const family = families[rng.nextInt(families.length)];
    const level = levels[rng.nextInt(levels.length)];
    const g = GENERATORS[family](rng, level);
    const [h1, h2] = hash64(g.prompt);
    if ((h1 % TEST_FRACTION_DENOMINATOR === 0 ? "test" : "train") !== options.split) continue;
    out.push({
      id: `gen-${family}-${level}-${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}`,
      prompt: g.prompt,
      gold: g.gold,
      solution: g.solution,
      ...(g.chain ? { chain: g.chain } : {}),
      source: `gen/${family}`,
      level,
    });
  }
  return out;
}
