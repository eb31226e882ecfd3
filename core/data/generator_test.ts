import { assert, assertEquals, assertThrows } from "@std/assert";
import { all, create } from "mathjs";
import { GENERATOR_ALPHABET } from "./alphabet.ts";
import { FAMILIES, type Family, generateProblems, problemSplit } from "./generator.ts";
import { gcd, type Level, LEVELS } from "./families/common.ts";
import type { Problem } from "./problem.ts";

const math = create(all, { number: "Fraction" });

function sample(family: Family, level: Level, count = 300, split: "train" | "test" = "train"): Problem[] {
  return generateProblems({ seed: 11, count, split, families: [family], levels: [level] });
}

/** The gold answer as an exact fraction: "12", "-3", "\frac{7}{12}", "-\frac{1}{2}" or "x = 5". */
function goldValue(gold: string) {
  const g = gold.replace(/^x = /, "");
  const m = /^(-?)\\frac\{(\d+)\}\{(\d+)\}$/.exec(g);
  if (m) {
    assertEquals(gcd(Number(m[2]), Number(m[3])), 1, `not in lowest terms: ${gold}`);
    return math.fraction(`${m[1]}${m[2]}/${m[3]}`);
  }
  assert(/^-?\d+$/.test(g), `unexpected gold ${gold}`);
  return math.fraction(g);
}

Deno.test("generateProblems: the same seed gives the same problems; another seed does not", () => {
  const a = generateProblems({ seed: 3, count: 200, split: "train" });
  assertEquals(a, generateProblems({ seed: 3, count: 200, split: "train" }));
  const b = generateProblems({ seed: 4, count: 200, split: "train" });
  assert(a.filter((p, i) => p.prompt === b[i].prompt).length < 20);
  assertEquals(generateProblems({ seed: 3, count: 0, split: "test" }), []);
});

Deno.test("generateProblems: every family and level is well formed and only uses the alphabet", () => {
  const alphabet = new Set(GENERATOR_ALPHABET);
  for (const family of FAMILIES) {
    for (const level of LEVELS) {
      for (const p of sample(family, level, 100)) {
        assertEquals([p.source, p.level], [`gen/${family}`, level]);
        assert(p.id.startsWith(`gen-${family}-${level}-`), p.id);
        assert(p.solution?.endsWith(`\\boxed{${p.gold}}`), p.solution);
        for (const ch of p.prompt + (p.solution as string)) {
          assert(alphabet.has(ch), `char ${JSON.stringify(ch)}`);
        }
      }
    }
  }
});

Deno.test("generateProblems: level 1 is short enough for a tiny character model", () => {
  for (const family of FAMILIES) {
    for (const p of sample(family, 1, 200)) {
      const [maxPrompt, maxSolution] = family === "word" ? [90, 32] : [24, 52];
      assert(p.prompt.length <= maxPrompt, `${family} prompt too long: ${p.prompt}`);
      assert((p.solution as string).length <= maxSolution, `${family} solution too long: ${p.solution}`);
    }
  }
});

Deno.test("generateProblems: gold answers are right (checked with mathjs fractions)", () => {
  for (const level of LEVELS) {
    for (const family of ["addition", "subtraction", "multiplication", "expression", "fraction"] as const) {
      for (const p of sample(family, level)) {
        const question = /^What is (.*)\?$/.exec(p.prompt)?.[1] as string;
        const [a, b] = question.split(" divided by ");
        const value = math.evaluate(b === undefined ? a : `(${a}) / (${b})`);
        assert(math.equal(value, goldValue(p.gold)), `${p.prompt} -> ${p.gold}`);
      }
    }
    for (const p of sample("linear", level)) {
      const [lhs, rhs] = (/^Solve (.*)\.$/.exec(p.prompt)?.[1] as string).split(" = ");
      const x = goldValue(p.gold);
      const at = (side: string) => math.evaluate(side.replace(/(\d)x/g, "$1 * x"), { x });
      assert(math.equal(at(lhs), at(rhs)), `${p.prompt} -> ${p.gold}`);
    }
    for (const p of sample("word", level)) {
      // Every step "a op b = c" of the solution holds, and the last result is the answer.
      const steps = [...(p.solution as string).matchAll(/(\d+) ([-+*/]) (\d+) = (\d+)/g)];
      assert(steps.length >= 1);
      for (const s of steps) {
        assert(math.equal(math.evaluate(`${s[1]} ${s[2]} ${s[3]}`), math.fraction(s[4])), s[0]);
      }
      assertEquals(steps[steps.length - 1][4], p.gold);
    }
  }
});

Deno.test("generateProblems: column-by-column steps spell out the result", () => {
  for (const level of [2, 3] as const) {
    for (const p of sample("addition", level)) {
      const written = [...(p.solution as string).matchAll(/write (?:the carry )?(\d)/g)].map((m) => m[1]);
      assertEquals(written.reverse().join(""), p.gold, p.solution);
    }
    for (const p of sample("subtraction", level)) {
      const lines = (p.solution as string).split("\n").filter((l) => /^[a-z ]+: /.test(l));
      const digits = lines.map((l) => /= (\d+)(, borrow 1)?$/.exec(l)?.[1] as string).reverse().join("");
      assertEquals(Number(digits), Math.abs(Number(p.gold)), p.solution);
    }
  }
});

Deno.test("generateProblems: train and test never share a problem", () => {
  const train = generateProblems({ seed: 1, count: 4000, split: "train", levels: [1] });
  const test = generateProblems({ seed: 2, count: 1000, split: "test", levels: [1] });
  const trainPrompts = new Set(train.map((p) => p.prompt));
  assert(test.every((p) => !trainPrompts.has(p.prompt)));
  assert(train.every((p) => problemSplit(p.prompt) === "train"));
  assert(test.every((p) => problemSplit(p.prompt) === "test"));
  // The same problem always gets the same id.
  const byPrompt = new Map<string, string>();
  for (const p of train) {
    assertEquals(byPrompt.get(p.prompt) ?? p.id, p.id);
    byPrompt.set(p.prompt, p.id);
  }
});

Deno.test("generateProblems: invalid options throw", () => {
  assertThrows(() => generateProblems({ seed: NaN, count: 1, split: "train" }), RangeError, "seed");
  assertThrows(() => generateProblems({ seed: 1, count: -1, split: "train" }), RangeError, "count");
  assertThrows(() => generateProblems({ seed: 1, count: 1.5, split: "train" }), RangeError, "count");
  assertThrows(() => generateProblems({ seed: 1, count: 1, split: "dev" as never }), RangeError, "split");
  assertThrows(
    () => generateProblems({ seed: 1, count: 1, split: "train", families: ["calc" as never] }),
    RangeError,
  );
  assertThrows(
    () => generateProblems({ seed: 1, count: 1, split: "train", levels: [4 as never] }),
    RangeError,
  );
  assertThrows(
    () => generateProblems({ seed: 1, count: 1, split: "train", families: [] }),
    RangeError,
    "empty",
  );
});
