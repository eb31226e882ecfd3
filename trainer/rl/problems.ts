/**
 * The problems of a run: the training split it samples from and the held-out test split it is evaluated on,
 * from the seeded generator or from a JSONL file.
 *
 * @module
 */

import {
  FAMILIES,
  type Family,
  generateProblems,
  type Level,
  LEVELS,
  parseJsonl,
  type Problem,
} from "../../core/data/mod.ts";
import { createRng } from "../../core/random/mod.ts";
import { ConfigError } from "./config.ts";

/** The two splits of a run. */
export interface ProblemSets {
  train: Problem[];
  test: Problem[];
}

/** What {@linkcode buildProblems} needs of the configuration. */
export interface ProblemOptions {
  seed: number;
  data?: string;
  families: readonly string[];
  levels: readonly number[];
  trainProblems: number;
  testProblems: number;
}

function checkFamilies(families: readonly string[]): Family[] | undefined {
  for (const f of families) {
    if (!(FAMILIES as readonly string[]).includes(f)) {
      throw new ConfigError(`--families: unknown family "${f}" (expected some of ${FAMILIES.join(", ")})`);
    }
  }
  return families.length ? families as Family[] : undefined;
}

function checkLevels(levels: readonly number[]): Level[] | undefined {
  for (const l of levels) {
    if (!(LEVELS as readonly number[]).includes(l)) {
      throw new ConfigError(`--levels: unknown level ${l} (expected some of ${LEVELS.join(", ")})`);
    }
  }
  return levels.length ? levels as Level[] : undefined;
}

/** Removes repeated problems (same source and id), keeping the first. */
function unique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.source}\u0000${p.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Builds the splits. Generator: distinct train and test problems of the chosen families and levels (the
 * generator's hash split keeps them disjoint). JSONL: the rows are shuffled with the seed; the first
 * `testProblems` form the test split and the rest (at most `trainProblems`) the training split. Throws a
 * {@linkcode ConfigError} on unknown families or levels, an unreadable file or too few rows.
 */
export async function buildProblems(options: ProblemOptions): Promise<ProblemSets> {
  if (options.data === undefined) {
    const families = checkFamilies(options.families);
    const levels = checkLevels(options.levels);
    const gen = (split: "train" | "test", count: number, seed: number) =>
      unique(generateProblems({ seed, count, split, families, levels }));
    return {
      train: gen("train", options.trainProblems, options.seed),
      test: gen("test", options.testProblems, options.seed + 7919),
    };
  }
  let text: string;
  try {
    text = await Deno.readTextFile(options.data);
  } catch (e) {
    throw new ConfigError(`--data: cannot read ${options.data}: ${(e as Error).message}`);
  }
  const all = unique(parseJsonl(text, options.data));
  if (all.length < options.testProblems + 1) {
    throw new ConfigError(
      `--data: ${options.data} has ${all.length} problems, need more than --test-problems (${options.testProblems})`,
    );
  }
  const rng = createRng(options.seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return {
    test: all.slice(0, options.testProblems),
    train: all.slice(options.testProblems, options.testProblems + options.trainProblems),
  };
}
