import { assert } from "@std/assert";
import { expressionsEqual, proportional, realValue, sameRealRoots } from "./compare_expr.ts";
import { exprNode as node, testContext as ctx } from "./testing.ts";

const eq = (a: string, b: string, c = ctx()) => expressionsEqual(node(a), node(b), c);

Deno.test("compare expr: rationals are exact, decimals use the relative tolerance", () => {
  assert(eq("\\frac{10}{9}", "10/9"));
  assert(eq("0.5", "1/2"));
  assert(!eq("\\frac{1}{3}", "0.333"));
  assert(eq("\\frac{1}{12}", "0.0833333333333333"));
  assert(eq("2.314814814815 \\times 10^{-3}", "\\frac{1}{432}"));
  assert(!eq("1000001", "1000000"));
  assert(!eq("2.88e-19", "3.88e-19"));
  assert(eq("1/3", "0.3333", ctx({ decimalPlaces: 4 })));
  assert(!eq("1/3", "0.3334", ctx({ decimalPlaces: 4 })));
});

Deno.test("compare expr: irrational constants, rounding of exact golds to ≥ 4 digits", () => {
  assert(eq("\\frac{\\sqrt{3}}{2}", "0.8660254037844386"));
  assert(eq("\\sqrt{2}", "1.414"));
  assert(eq("40\\pi", "125.663"));
  assert(!eq("\\sqrt{2}", "1.41"));
  assert(!eq("\\sqrt{2}", "1.415"));
  assert(!eq("4", "4\\sqrt{2}"));
  assert(eq("\\sin(90^\\circ - x)", "\\cos x"));
});

Deno.test("compare expr: symbolic equality at random points; different functions differ", () => {
  assert(eq("(x+1)^2", "x^2+2x+1"));
  assert(eq("\\tan^2 y + 1", "\\sec^2 y"));
  assert(eq("1+2i", "i(2-i)"));
  assert(!eq("x^3+2x+1", "x^2+2x+1"));
  assert(!eq("x^2+2x+1", "y^2+2y+1"));
  assert(!eq("x+2n+1", "x+1"));
  assert(!eq("\\lfloor\\frac{2n-1}{5}\\rfloor", "\\lfloor\\frac{2n-1}{6}\\rfloor"));
  assert(!eq("1-\\frac{1}{e}", "1+\\frac{1}{e}"));
});

Deno.test("compare expr: overflow never compares equal; explicit infinity does", () => {
  assert(!eq("10^{10^{10}}", "10^{10^{11}}"));
  assert(eq("\\infty", "+\\infty"));
  assert(!eq("\\infty", "-\\infty"));
});

Deno.test("compare expr: proportional equations and real values", () => {
  assert(proportional(node("x^2/4 + y^2/3 - 1"), node("x^2/16 + y^2/12 - 1/4"), ctx()));
  assert(!proportional(node("x - 1"), node("x - 2"), ctx()));
  assert(realValue(node("\\sqrt{4}"), ctx()) === 2 && realValue(node("x"), ctx()) === null);
});

Deno.test("compare expr: one-variable equations with the same real solutions", () => {
  assert(sameRealRoots(node("2w+50/w-25"), node("w(12.5-w)-25"), ctx()));
  assert(!sameRealRoots(node("2w+50/w-25"), node("w(12-w)-25"), ctx()));
  assert(!sameRealRoots(node("x^2+1"), node("x^2+2"), ctx()));
  assert(!sameRealRoots(node("x-1"), node("x-y"), ctx()));
  assert(!sameRealRoots(node("1/x"), node("1/(x-1)"), ctx()));
});
