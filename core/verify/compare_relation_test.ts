import { assert } from "@std/assert";
import { isAssignable } from "./compare_relation.ts";
import { parseValue as parse, sameAnswer as same, testContext as ctx } from "./testing.ts";

Deno.test("compare relation: assignment left sides", () => {
  for (const lhs of ["x", "f(x)", "x_1", "|AB|", "\\frac{NO}{BO}", "(p, q)", "V_1"]) {
    assert(isAssignable(parse(lhs)), lhs);
  }
  for (const lhs of ["2x+z", "a+2z", "7", "\\sin(x)", "a^2+b"]) assert(!isAssignable(parse(lhs)), lhs);
});

Deno.test("compare relation: equations as assignments, chains, or up to a scalar", () => {
  assert(same("x = 11", "x = 5+5+1 = 7 = 11"));
  assert(same("k = 1", "1"));
  assert(same("11", "x = 11"));
  assert(!same("2x+z = 1", "1"));
  assert(!same("a^2+b=0", "0"));
  assert(!same("7 = 11a+c", "11a+c"));
  assert(same("f(x) = 2x+3", "y = 2x+3"));
  assert(same("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}"));
  assert(same("34x+45y-20z+100=0", "-34x-45y+20z-100=0"));
  assert(!same("\\sin(x)=\\frac{42}{59}", "\\cos(x)=\\frac{42}{59}"));
  assert(!same("D = (0, 1)", "D = (0, 1.5)"));
  assert(!same("x+y=1", "x-y=1"));
  assert(same("2w+50/w=25", "w(12.5-w)=25"));
  assert(!same("x=3", "x^2=9"));
  assert(same("x=3", "2x=6"));
});

Deno.test("compare relation: inequalities as the sets they describe; the gold decides the form", () => {
  assert(same("x \\le 5", "5 \\ge x"));
  assert(!same("x > 5", "x < 5"));
  assert(!same("x \\ge 5", "x > 5"));
  assert(same("x \\ne 3", "x \\neq 3"));
  assert(same("-793 < a < 10", "(-793, 10)"));
  assert(!same("-793 < a < 10", "[-793, 10)"));
  assert(same("1 \\le |z| \\le 3/2", "z \\in [-3/2, -1] \\cup [1, 3/2]"));
  assert(!same("(1,2)", "1 < x < 2"));
  assert(same("(1,2)", "1 < x < 2", ctx({ relationAsSet: true })));
  assert(!same("x < 2", "y < 2"));
});
