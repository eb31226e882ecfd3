import { assert, assertEquals, assertThrows } from "@std/assert";
import { sharedPath, sharedTest } from "../../tests/shared.ts";
import { parseJsonl } from "./jsonl.ts";

function load(name: string) {
  const path = sharedPath(`data/eval/${name}`);
  const text = Deno.readTextFileSync(path);
  return { problems: parseJsonl(text, name), rows: text.trim().split("\n").length };
}

sharedTest("parseJsonl: GSM8K", () => {
  const { problems, rows } = load("gsm8k_test.jsonl");
  assertEquals(problems.length, rows);
  assertEquals(rows, 1319);
  const p = problems[0];
  assertEquals([p.id, p.source, p.gold], ["gsm8k_test-1", "gsm8k_test", "18"]);
  assert(p.prompt.startsWith("Janet"));
  assertEquals(
    p.solution,
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day at the " +
      "farmer\u2019s market.\n\\boxed{18}",
  );
  assert(problems.every((q) => /^-?\d+(\.\d+)?$/.test(q.gold)), "GSM8K answers are plain numbers");
});

sharedTest("parseJsonl: MATH-style files (answer, or boxed in the solution)", () => {
  const aime = load("aime24.jsonl");
  assertEquals(aime.problems.length, 30);
  assertEquals([aime.problems[0].id, aime.problems[0].gold], ["aime24-60", "204"]);
  const amc = load("amc23.jsonl");
  assertEquals(amc.problems.length, 40);
  assertEquals(amc.problems[0].gold, "27"); // the file stores the number 27.0
  const minerva = load("minerva_math.jsonl");
  assertEquals(minerva.problems.length, 272);
  assertEquals(minerva.problems[0].gold, "1.6"); // from "...=\boxed{1.6} \mathrm{~cm}"
  assert(minerva.problems.every((p) => p.gold.length > 0 && p.solution?.includes("\\boxed")));
});

sharedTest("parseJsonl: OlympiadBench and SVAMP", () => {
  const ob = load("olympiadbench.jsonl");
  assertEquals(ob.problems.length, 675);
  assertEquals(ob.problems.slice(0, 3).map((p) => p.gold), ["2", "\\frac{1}{2 n+2}", "2^{1009}"]);
  assert(ob.problems.every((p) => !/(?<!\\)\$/.test(p.gold)), "math delimiters are removed");
  // '$69$,$84$' (one list entry holding two answers) -> "69,84"
  assert(ob.problems.some((p) => p.gold === "69,84"));
  const sv = load("svamp.jsonl");
  assertEquals(sv.problems.length, 1000);
  assertEquals(sv.problems[0].gold, "145");
  assertEquals(
    sv.problems[0].prompt,
    "There are 87 oranges and 290 bananas in Philip's collection. If the bananas are organized into 2 groups and " +
      "oranges are organized into 93 groups. How big is each group of bananas?",
  );
});

Deno.test("parseJsonl: other shapes of the layouts", () => {
  const text = [
    JSON.stringify({ question: "Q1", final_answer: '["$x+1$", "$2$"]', context: "Let x = 1." }),
    "",
    JSON.stringify({ question: "Q2", answer: "a\n#### 1,234" }),
    JSON.stringify({ problem: "P3", solution: "so \\boxed{\\frac{1}{2}}." }),
  ].join("\n");
  const ps = parseJsonl(text, "dir/mixed.jsonl");
  assertEquals(ps.map((p) => [p.id, p.prompt, p.gold]), [
    ["mixed-1", "Let x = 1.\nQ1", "x+1, 2"],
    ["mixed-3", "Q2", "1234"],
    ["mixed-4", "P3", "\\frac{1}{2}"],
  ]);
});

Deno.test("parseJsonl: malformed rows name the file and the line", () => {
  const bad = (text: string, message: string, layout?: "math") =>
    assertThrows(() => parseJsonl(text, "bad.jsonl", layout), SyntaxError, message);
  bad('{"problem": "a", "answer": "1"}\n{oops', "bad.jsonl: line 2: invalid JSON");
  bad("[1, 2]", "bad.jsonl: line 1: expected a JSON object");
  bad('{"text": "a"}', "bad.jsonl: line 1: unknown layout");
  bad('{"problem": "a", "solution": "no box"}', 'bad.jsonl: line 1: no "answer"');
  bad('{"question": "a", "final_answer": []}', 'bad.jsonl: line 1: "final_answer"');
  bad('{"question": "a", "answer": "#### 4"}', 'bad.jsonl: line 1: "problem" must be a string', "math");
  assertThrows(() => parseJsonl("", "x.jsonl", "csv" as never), RangeError, "unknown layout");
});

Deno.test("parseJsonl: a row may name the answer form its question asks for", () => {
  const text = [
    '{"problem": "Factor $x^2-1$ completely.", "answer": "(x-1)(x+1)", "form": "factored"}',
    '{"problem": "P2", "answer": "3"}',
  ].join("\n");
  assertEquals(parseJsonl(text, "f.jsonl").map((p) => p.form), ["factored", undefined]);
  assertThrows(
    () => parseJsonl('{"problem": "a", "answer": "1", "form": "pretty"}', "f.jsonl"),
    SyntaxError,
    'f.jsonl: line 1: "form" must be one of factored, expanded',
  );
});
