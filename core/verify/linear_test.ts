/**
 * Property test: answer extraction is linear in the length of hostile input. After every answer cue the
 * extractor knows (and every opener of a box or a LaTeX block), long runs of whitespace, punctuation, digits,
 * dollar signs and LaTeX openers are generated at three sizes; quadrupling the size may multiply the time by
 * at most 8 (linear code: about 4; quadratic: 16; the old backtracking pattern: 256). What comes after
 * extraction is bounded by the answer length limit and the time budget instead.
 */
import { assert } from "@std/assert";
import { ANSWER_CUES, extractAnswer, extractGold } from "./extract.ts";
import { responseChoice } from "./mcq.ts";
import { verify } from "./verify.ts";

const OPENERS = [
  "\\boxed{",
  "\\boxed ",
  "\\fbox{",
  "$",
  "$$",
  "\\(",
  "\\[",
  "\\text{",
  "\\mathrm{",
  "\\frac{",
];
const CUES = [...ANSWER_CUES.flat().map((c) => c.phrase), "The final answer is:", "Answer :", ...OPENERS];
const FILLS = [
  " ",
  "\n",
  "\t",
  " \u00a0",
  ".",
  ",",
  ":",
  ". ",
  "!?;",
  "7",
  "1,",
  "1.",
  "1 ",
  "1/",
  "%",
  "$",
  "$$",
  "\\$",
  "\\(",
  "\\[",
  "\\{",
  "{",
  "\\",
  "\\frac{",
  "\\boxed{",
  "\\boxed ",
  "I hope ",
  "#",
  " and ",
  " m",
];
const TAILS = ["", "x", " I hope it is correct."];
const SIZES = [500, 2000, 8000];
/** Most time one 500-character input may take (linear extraction takes well under a millisecond). */
const FIRST_BOUND_MS = 100;
/** Allowed growth of the time when the input is four times longer, plus a floor for timer noise. */
const MAX_RATIO = 8;
const NOISE_MS = 3;
/** Rounds of interleaved measurements taken again before a ratio over the bound fails the test. */
const RETRY_ROUNDS = 4;

const CHECKS: [string, (s: string) => unknown][] = [
  ["extractAnswer", (s) => extractAnswer(s)],
  ["extractGold", (s) => extractGold(s)],
  ["responseChoice", (s) => responseChoice(s)],
];

/** The least time of `runs` calls: the call with the fewest interruptions by other processes. */
function fastest(f: (s: string) => unknown, s: string, runs = 3): number {
  return fastestPair(f, s, s, runs)[0];
}

/**
 * The least times of `runs` calls on each of two inputs, measured in turn so that both see the same load: a
 * busy stretch of the machine then slows both sides instead of one.
 */
function fastestPair(f: (s: string) => unknown, a: string, b: string, runs: number): [number, number] {
  const best: [number, number] = [Infinity, Infinity];
  for (let r = 0; r < runs; r++) {
    [a, b].forEach((s, i) => {
      const t0 = performance.now();
      f(s);
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  }
  return best;
}

function input(cue: string, fill: string, tail: string, size: number): string {
  return "We simplify first. " + cue + fill.repeat(Math.ceil(size / fill.length)) + tail;
}

Deno.test("extraction: time grows linearly after every cue, whatever run of characters follows", () => {
  let checked = 0;
  for (const cue of CUES) {
    for (const fill of FILLS) {
      for (const tail of TAILS) {
        for (const [name, f] of CHECKS) {
          const what = `${name} on ${JSON.stringify(cue)} + ${JSON.stringify(fill)} × n + ${
            JSON.stringify(tail)
          }`;
          const text = (size: number) => input(cue, fill, tail, size);
          const first = fastest(f, text(SIZES[0]));
          assert(first < FIRST_BOUND_MS, `${what}: ${first.toFixed(1)} ms at n = ${SIZES[0]}`);
          for (const size of SIZES.slice(1)) {
            let [short, long] = fastestPair(f, text(size / 4), text(size), 3);
            // One slow measurement on a busy machine is taken again, in longer rounds, before it counts:
            // a quadratic extractor fails every round, since load slows both sides of a round alike.
            for (let round = 0; round < RETRY_ROUNDS && long > MAX_RATIO * short + NOISE_MS; round++) {
              [short, long] = fastestPair(f, text(size / 4), text(size), 9);
            }
            assert(
              long <= MAX_RATIO * short + NOISE_MS,
              `${what}: ${short.toFixed(2)} ms at n = ${size / 4}, ${long.toFixed(2)} ms at n = ${size}`,
            );
          }
          checked++;
        }
      }
    }
  }
  assert(checked === CUES.length * FILLS.length * TAILS.length * CHECKS.length);
});

Deno.test("extraction: the answer is still found after a long run of whitespace", () => {
  const pad = " ".repeat(100_000);
  assert(verify("42", `The final answer is:${pad}42. I hope it is correct.`).correct);
  assert(verify("42", `answer:${pad}42`).correct);
  assert(verify("42", `\\boxed${pad}{42}`).correct);
  assert(verify("72", `We add them.\n####${pad}72`).correct);
  assert(extractAnswer(`The answer is ${"\n".repeat(50_000)}`) === null);
});
