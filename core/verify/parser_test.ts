import { assert, assertEquals, assertThrows } from "@std/assert";
import { Budget, LimitError, TimeoutError, unlimitedBudget } from "./budget.ts";
import { parseAnswer, ParseError } from "./parser.ts";
import { parseValue as parse } from "./testing.ts";
import type { Value } from "./value.ts";

const str = (v: Value): string => (v.t === "expr" ? v.node.toString() : JSON.stringify(v));

Deno.test("parser: arithmetic, implicit multiplication, fractions and roots build mathjs trees", () => {
  assertEquals(str(parse("2x+1")), "2 * x + 1");
  assertEquals(str(parse("\\frac12")), "1 / 2");
  assertEquals(str(parse("\\frac{a}{b}c")), "a / b * c");
  assertEquals(str(parse("\\sqrt3")), "sqrt(3)");
  assertEquals(str(parse("\\sqrt[3]{x}")), "nthRoot(x, 3)");
  assertEquals(str(parse("2^{10}")), "2 ^ 10");
  assertEquals(str(parse("10^10^10")), "10 ^ 10 ^ 10");
  assertEquals(str(parse("-x^2")), "-x ^ 2");
  assertEquals(str(parse("3!")), "factorial(3)");
  assertEquals(str(parse("|x-1|")), "abs(x - 1)");
  assertEquals(str(parse("\\lfloor x \\rfloor")), "floor(x)");
  assertEquals(str(parse("\\binom{5}{2}")), "binom(5, 2)");
});

Deno.test("parser: functions with and without parentheses, powers, inverses, log bases, degrees", () => {
  assertEquals(str(parse("2 \\sin b \\cos a")), "2 * sin(b) * cos(a)");
  assertEquals(str(parse("\\sin^2 x")), "sin(x) ^ 2");
  assertEquals(str(parse("\\sin^{-1} x")), "arcsin(x)");
  assertEquals(str(parse("\\log_2 8")), "log(8, 2)");
  assertEquals(str(parse("\\sin(90^\\circ)")), "sin(90 * pi / 180)");
  assertEquals(str(parse("90^\\circ")), "90");
  assertEquals(str(parse("x_1 + F_{n-1}")), "x_(1) + F_(n - 1)");
  assertEquals(str(parse("\\mathrm{e}^{x}")), "e ^ x");
});

Deno.test("parser: structures: lists, sets, tuples, intervals, unions, matrices", () => {
  assertEquals(parse("1, 2, 3").t, "list");
  assertEquals(parse("\\{1, 2\\}").t, "list");
  assertEquals(parse("{1,3}").t, "list");
  const iv = parse("[0, 1)");
  assert(iv.t === "tuple" && iv.open === "[" && iv.close === ")");
  assertEquals(parse("(-\\infty, 1) \\cup (2, \\infty)").t, "union");
  assertEquals(parse("{1} \\cup {1,4}").t, "list");
  const m = parse("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}");
  assert(m.t === "matrix" && m.rows.length === 2 && m.rows[0].length === 2);
  const sum = parse("\\begin{pmatrix}1\\\\2\\end{pmatrix}+\\begin{pmatrix}3\\\\4\\end{pmatrix}");
  assert(sum.t === "matrix" && str((sum as { rows: Value[][] }).rows[1][0]) === "2 + 4");
  assertEquals(parse("\\text{Evelyn}"), { t: "text", text: "Evelyn" });
  assertEquals(parse("1, 2, \\dots").t, "list");
});

Deno.test("parser: relations, ± expansion, percent, ≈ and times", () => {
  const eq = parse("x = 5 + 5 + 1 = 11");
  assert(eq.t === "rel" && eq.ops.join() === "=,=" && eq.terms.length === 3);
  const chain = parse("-2 \\le x < 7");
  assert(chain.t === "rel" && chain.ops.join() === "≤,<");
  const pm = parse("3 \\pm 2\\sqrt{2}");
  assert(pm.t === "list" && pm.items.length === 2);
  assertEquals((pm as { items: Value[] }).items.map(str), ["3 + 2 * sqrt(2)", "3 - 2 * sqrt(2)"]);
  const pct = parse("28\\%");
  assert(pct.t === "expr" && pct.pct && str(pct) === "28 / 100");
  assertEquals(str(parse("x \\approx 11")), "11");
  assertEquals(str(parse("\\frac{1}{3} \\approx 0.33")), "1 / 3");
  assertEquals(parse("20:34").t, "time");
  const inSet = parse("t(0,4]");
  assert(inSet.t === "rel" && inSet.ops[0] === "∈");
});

Deno.test("parser: malformed input gives ParseError", () => {
  for (
    const bad of [
      "",
      "(1",
      "1 +",
      "\\frac{1}",
      "(1]",
      "[0,1) + 2",
      "\\begin{cases}1\\end{cases}",
      "x \\cap y",
    ]
  ) {
    assertThrows(() => parse(bad), Error, undefined, bad);
  }
  assertThrows(() => parse("(1]"), ParseError);
});

Deno.test("parser: limits on length, depth, nodes and time", () => {
  assertThrows(() => parseAnswer("1+".repeat(2000) + "1", unlimitedBudget()), LimitError);
  assertThrows(() => parseAnswer("(".repeat(100) + "1" + ")".repeat(100), unlimitedBudget()), LimitError);
  const row = Array(12).fill("1").join("&");
  const m = `\\begin{pmatrix}${Array(12).fill(row).join("\\\\")}\\end{pmatrix}`;
  assertThrows(() => parseAnswer(m + m + m, unlimitedBudget()), LimitError, "nodes");
  assertThrows(
    () => parseAnswer("1+2+3+4+5+6+7+8+9+1+2+3+4+5+6+7+8+9+1+2+3+4", new Budget(-1)),
    TimeoutError,
  );
});
