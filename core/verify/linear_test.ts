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

const CHECKS: [string, (s: string) => unknown][] = [
  ["extractAnswer", (s) => extractAnswer(s)],
  ["extractGold", (s) => extractGold(s)],
  ["responseChoice", (s) => responseChoice(s)],
];

/** The least time of `runs` calls: the call with the fewest interruptions by other processes. */
function fastest(f: (s: string) => unknown, s: string, runs = 3): number {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f(s);
    best = Math.min(best, performance.now() - t0);
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
          const at = (size: number, runs?: number) => fastest(f, input(cue, fill, tail, size), runs);
          let prev = at(SIZES[0]);
          assert(prev < FIRST_BOUND_MS, `${what}: ${prev.toFixed(1)} ms at n = ${SIZES[0]}`);
          for (const size of SIZES.slice(1)) {
            let t = at(size);
            // On a busy machine one slow sample is measured again, more times, before it counts.
            if (t > MAX_RATIO * prev + NOISE_MS) {
              prev = Math.min(prev, at(size / 4, 9));
              t = Math.min(t, at(size, 9));
            }
            assert(
              t <= MAX_RATIO * prev + NOISE_MS,
              `${what}: ${prev.toFixed(2)} ms at n = ${size / 4}, ${t.toFixed(2)} ms at n = ${size}`,
            );
            prev = t;
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
