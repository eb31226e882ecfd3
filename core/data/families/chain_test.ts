import { assert, assertEquals } from "@std/assert";
import { generateProblems, problemSplit } from "../generator.ts";
import { chainDeparture } from "../chain.ts";
import type { Level } from "./common.ts";

const gen = (family: "chain" | "carry", levels: Level[], split: "train" | "test", count: number, seed = 1) =>
  generateProblems({ seed, count, split, families: [family], levels });

Deno.test("chain family: every step carries the running value and the answer is the last one", () => {
  for (const level of [1, 2, 3] as const) {
    for (const p of gen("chain", [level], "train", 300)) {
      const terms = [.../^What is (.*)\?$/.exec(p.prompt)![1].matchAll(/([+-]?)(\d+)/g)];
      let value = Number(terms[0][2]);
      assertEquals(p.chain!.length, terms.length); // one segment per step, and the boxed answer
      terms.slice(1).forEach(([, op, n], i) => {
        const next = op === "-" ? value - Number(n) : value + Number(n);
        assert(next >= 0, `${p.prompt}: the running value went negative`);
        assertEquals(p.chain![i].replace(/[,.] $/, ""), `${value}${op}${n}=${next}`);
        value = next;
      });
      assertEquals(p.gold, String(value));
      assertEquals(p.chain!.join(""), p.solution);
      if (level === 1) assert(!p.prompt.includes("-"), p.prompt);
    }
  }
});

Deno.test("carry family: column sums with carries spell the answer", () => {
  for (const level of [1, 2, 3] as const) {
    for (const p of gen("carry", [level], "train", 200)) {
      const [a, b] = (/^What is (\d+)\+(\d+)\?$/.exec(p.prompt)!).slice(1).map(Number);
      assertEquals(p.gold, String(a + b));
      const sums = p.chain!.slice(0, level + 1).map((s) => Number(/=(\d+)/.exec(s)![1]));
      const digits = sums.map((s) => s % 10).reverse().join("");
      const carry = sums[sums.length - 1] >= 10 ? "1" : "";
      assertEquals(Number(carry + digits), a + b, p.solution);
      assertEquals(p.chain!.join(""), p.solution);
    }
  }
});

Deno.test("chain family: thousands of distinct problems, disjoint train and test splits, 500+ held out", () => {
  const train = new Set(gen("chain", [1, 2], "train", 20000).map((p) => p.prompt));
  const test = new Set(gen("chain", [1, 2], "test", 1000, 7920).map((p) => p.prompt));
  assert(train.size > 10000, `${train.size} distinct training problems`);
  assert(test.size >= 500, `${test.size} distinct held-out problems`);
  for (const prompt of test) {
    assert(!train.has(prompt), prompt);
    assertEquals(problemSplit(prompt), "test");
  }
});

Deno.test("chainDeparture: first wrong character and its step on hand-made chains", () => {
  const chain = ["3+5=8, ", "8+7=15, ", "15-9=6. ", "\\boxed{6}"];
  assertEquals(chainDeparture(chain, "3+5=8, 8+7=15, 15-9=6. \\boxed{6}"), null);
  // A wrong sum in the second step: "8+7=16" departs at the "6".
  assertEquals(chainDeparture(chain, "3+5=8, 8+7=16, 16-9=7. \\boxed{7}"), { step: 1, offset: 12 });
  // A mis-copied operand in the first step.
  assertEquals(chainDeparture(chain, "3+6=9, 9+7=16, 16-9=7. \\boxed{7}"), { step: 0, offset: 2 });
  // Right chain, wrong box: the departure is in the answer segment.
  assertEquals(chainDeparture(chain, "3+5=8, 8+7=15, 15-9=6. \\boxed{5}"), { step: 3, offset: 30 });
  // Stopping early departs at the end; going on past the answer departs where the solution ends.
  assertEquals(chainDeparture(chain, "3+5=8, 8+"), { step: 1, offset: 9 });
  assertEquals(chainDeparture(chain, "3+5=8, 8+7=15, 15-9=6. \\boxed{6}!"), { step: 3, offset: 32 });
  assertEquals(chainDeparture(chain, ""), { step: 0, offset: 0 });
});
