import { assert, assertEquals } from "@std/assert";
import { verify } from "./mod.ts";
import type { AnswerForm } from "./form.ts";

const ok = (gold: string, response: string, form?: AnswerForm) =>
  verify(gold, `\\boxed{${response}}`, { form }).correct;

Deno.test("form: factored needs a product with as many factors as the gold", () => {
  assert(ok("(x-1)(x+2)", "x^2+x-2"));
  assert(!ok("(x-1)(x+2)", "x^2+x-2", "factored"));
  assert(ok("(x-1)(x+2)", "(x+2)(x-1)", "factored"));
  assert(ok("x(x-1)(x+1)", "x(x+1)(x-1)", "factored"));
  assert(!ok("x(x-1)(x+1)", "x(x^2-1)", "factored"));
  assert(ok("2(x+1)^2", "2(x+1)(x+1)", "factored"));
  assert(ok("-(x-3)(x+3)", "(3-x)(x+3)", "factored"));
});

Deno.test("form: expanded, simplified, exact and decimal", () => {
  assert(ok("x^2+2x+1", "x^2+2x+1", "expanded"));
  assert(!ok("x^2+2x+1", "(x+1)^2", "expanded"));
  assert(!ok("x^2+2x+1", "(x+1)(x+1)", "expanded"));
  assert(ok("\\frac{\\sqrt{2}}{2}", "\\frac{\\sqrt{2}}{2}", "simplified"));
  assert(!ok("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", "simplified"));
  assert(!ok("\\frac{1}{2}", "\\frac{2}{4}", "simplified"));
  assert(!ok("2\\sqrt{2}", "\\sqrt{8}", "simplified"));
  assert(ok("\\sqrt{2}", "1.41421356", undefined));
  assert(!ok("\\sqrt{2}", "1.41421356", "exact"));
  assert(ok("\\frac{1}{2}", "0.5", "decimal"));
  assert(!ok("0.5", "\\frac{1}{2}", "decimal"));
  assertEquals(
    verify("(x-1)(x+2)", "\\boxed{x^2+x-2}", { form: "factored" }).reason,
    "the answer equals the gold but is not in factored form",
  );
});
