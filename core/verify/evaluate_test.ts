import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { unlimitedBudget } from "./budget.ts";
import { evalComplex, evalExact, freeVariables, hasDecimal, mentionsInfinity } from "./evaluate.ts";
import { exprNode as node } from "./testing.ts";

const b = unlimitedBudget();
const at = (s: string, scope: Record<string, number> = {}) =>
  evalComplex(node(s), new Map(Object.entries(scope).map(([k, v]) => [k, { re: v, im: 0 }])), b);

Deno.test("evaluate: exact rationals for rational arithmetic only", () => {
  assertEquals(evalExact(node("\\frac{10}{9}"), b), { num: 10n, den: 9n });
  assertEquals(evalExact(node("0.5 + 1/4"), b), { num: 3n, den: 4n });
  assertEquals(evalExact(node("\\sqrt{16}+\\sqrt{9}"), b), { num: 7n, den: 1n });
  assertEquals(evalExact(node("2^{-3}"), b), { num: 1n, den: 8n });
  assertEquals(evalExact(node("\\sqrt{2}"), b), null);
  assertEquals(evalExact(node("x+1"), b), null);
  assertEquals(evalExact(node("1/0"), b), null);
  assertEquals(evalExact(node("10^{10^{10}}"), b), null);
});

Deno.test("evaluate: complex floating point with functions and constants", () => {
  assertAlmostEquals(at("\\sin(\\pi/6)").re, 0.5, 1e-12);
  assertAlmostEquals(at("\\log_2 8").re, 3, 1e-12);
  assertAlmostEquals(at("\\sqrt[3]{-8}").re, -2, 1e-12);
  assertAlmostEquals(at("5!").re, 120, 1e-9);
  assertAlmostEquals(at("\\binom{5}{2}").re, 10, 1e-9);
  assertAlmostEquals(at("\\mathrm{e}").re, Math.E, 1e-15);
  const z = at("i(2-i)");
  assertAlmostEquals(z.re, 1, 1e-12);
  assertAlmostEquals(z.im, 2, 1e-12);
  assertAlmostEquals(at("\\sqrt{-4}").im, 2, 1e-12);
  assertAlmostEquals(at("x^2+y", { x: 3, y: 1 }).re, 10, 1e-12);
  assert(Number.isNaN(at("x+1").re), "unknown variables are NaN");
  assertEquals(at("10^{10^{10}}").re, Infinity);
  assertEquals(at("\\lfloor 2.7 \\rfloor").re, 2);
});

Deno.test("evaluate: sums, and opaque values for subscripts and unknown functions", () => {
  assertAlmostEquals(at("\\sum_{k=1}^{10} k").re, 55, 1e-9);
  assertAlmostEquals(at("\\prod_{k=1}^{4} k").re, 24, 1e-9);
  assertEquals(at("x_1").re, at("x_{1}").re);
  assert(at("x_1").re !== at("x_2").re);
  const s1 = at("\\sum_{k=0}^{n-1} F_k F_{n-k-1}", { n: 1.7 }).re;
  assertEquals(s1, at("\\sum_{k=0}^{n-1} F_{n-k-1} F_k", { n: 1.7 }).re);
  assert(s1 !== at("\\sum_{k=0}^{n-2} F_k F_{n-k-2}", { n: 1.7 }).re);
});

Deno.test("evaluate: tree queries", () => {
  assertEquals([...freeVariables(node("x + y\\pi + e + i"))].sort(), ["x", "y"]);
  assert(hasDecimal(node("0.5x")) && hasDecimal(node("6e13")) && !hasDecimal(node("1/2")));
  assert(mentionsInfinity(node("-\\infty")) && !mentionsInfinity(node("10^{400}")));
});
