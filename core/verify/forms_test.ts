import { assert, assertEquals } from "@std/assert";
import { verify } from "./mod.ts";
import { splitUnit } from "./units.ts";
import { repairBrackets } from "./verify.ts";

/**
 * Answer forms, one test per group: `[gold, response, expected]`, written from the conventions of textbooks
 * and public graders (a union of intervals is a solution set, `\\pm` names both signs, `5 kg` is five
 * kilograms, a letter answers a multiple-choice question however it is decorated).
 */
function check(cases: [string, string, boolean][]): void {
  const misses = cases.filter(([g, r, e]) => verify(g, r).correct !== e)
    .map(([g, r, e]) => `${JSON.stringify(g)} vs ${JSON.stringify(r)}: expected ${e}`);
  assertEquals(misses, []);
}

Deno.test("forms: solution sets: inequalities joined by or/and/commas against intervals, solved when linear", () => {
  check([
    ["(-\\infty, -2) \\cup (3, \\infty)", "\\boxed{x < -2 \\text{ or } x > 3}", true],
    ["(-\\infty, -2) \\cup (3, \\infty)", "\\boxed{x < -2 \\lor x > 3}", true],
    ["(-\\infty, -2) \\cup (3, \\infty)", "\\boxed{x < -2 \\vee x > 3}", true],
    ["(-\\infty, -2) \\cup (3, \\infty)", "\\boxed{x < -2, x > 3}", true],
    ["(-\\infty, -2) \\cup (3, \\infty)", "\\boxed{x < -2 \\text{ or } x > 4}", false],
    ["(-\\infty, -2] \\cup [3, \\infty)", "\\boxed{x \\leqq -2 \\text{ or } x \\geqq 3}", true],
    ["(-\\infty, -2] \\cup [3, \\infty)", "\\boxed{x < -2 \\text{ or } x > 3}", false],
    ["x < -2 \\text{ or } x > 3", "\\boxed{(-\\infty, -2) \\cup (3, \\infty)}", true],
    ["x \\le -1 \\text{ or } x \\ge 2", "\\boxed{(-\\infty,-1]\\cup[2,\\infty)}", true],
    ["(1, 3)", "\\boxed{x > 1 \\wedge x < 3}", false],
    ["[1, 3)", "\\boxed{x \\ge 1 \\land x < 3}", true],
    ["[1, 3)", "\\boxed{1 \\le x < 3}", true],
    ["[1, 3)", "\\boxed{1 < x \\le 3}", false],
    ["(-\\infty, 5]", "\\boxed{x \\leq 5}", true],
    ["x<2", "\\boxed{2x<4}", true],
    ["x<2", "\\boxed{-2x>-4}", true],
    ["x<2", "\\boxed{-2x<-4}", false],
    ["x \\ge -3", "\\boxed{3x + 9 \\ge 0}", true],
    ["x<2", "\\boxed{2x+1<x+3}", true],
    ["x > 1", "\\boxed{x \\geq 1}", false],
  ]);
});

Deno.test("forms: \\pm and \\mp inside a fraction, inside one list item, complex roots", () => {
  check([
    ["\\frac{1 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{1+\\sqrt{5}}{2}, \\frac{1-\\sqrt{5}}{2}}", true],
    ["\\frac{1+\\sqrt{5}}{2}, \\frac{1-\\sqrt{5}}{2}", "\\boxed{\\frac{1 \\pm \\sqrt{5}}{2}}", true],
    [
      "\\frac{-3 \\pm i\\sqrt{7}}{4}",
      "\\boxed{-\\frac34 + \\frac{\\sqrt7}{4}i, -\\frac34 - \\frac{\\sqrt7}{4}i}",
      true,
    ],
    ["1, 2 \\pm \\sqrt{3}", "\\boxed{1, 2+\\sqrt3, 2-\\sqrt3}", true],
    ["1, 2 \\pm \\sqrt{3}", "\\boxed{2+\\sqrt3, 1, 2-\\sqrt3}", true],
    ["1, 2 \\pm \\sqrt{3}", "\\boxed{1, 2+\\sqrt3}", false],
    ["-1 \\pm 2i", "\\boxed{-1+2i, -1-2i}", true],
    ["x = 3 \\mp \\sqrt{2}", "\\boxed{3+\\sqrt2, 3-\\sqrt2}", true],
    ["\\pm \\frac{\\sqrt{2}}{2}", "\\boxed{\\frac{\\sqrt{2}}{2}}", false],
  ]);
});

Deno.test("forms: gold answers written as a sentence or mixing $..$ and bare text", () => {
  check([
    ["The number is 4.", "\\boxed{4}", true],
    ["The number is 4.", "\\boxed{5}", false],
    ["2 and $\\sqrt{3}$", "\\boxed{2, \\sqrt3}", true],
    ["$x = 2$ or $x = -3$", "\\boxed{-3, 2}", true],
    ["There are $12$ ways.", "\\boxed{12}", true],
  ]);
});

Deno.test("forms: units: same unit in other words, conversions, and never a wrong unit", () => {
  check([
    ["5 kilograms", "\\boxed{5 kg}", true],
    ["5 kg", "\\boxed{5 \\text{ kilograms}}", true],
    ["3.5 gal", "\\boxed{3.5 L}", false],
    ["3.5 L", "\\boxed{3.5 gal}", false],
    ["3.5 L", "\\boxed{3.5 \\text{ liters}}", true],
    ["5 kg", "\\boxed{5 m}", false],
    ["5 kg", "\\boxed{5000 g}", true],
    ["5 kg", "\\boxed{5 g}", false],
    ["12 inches", "\\boxed{1 foot}", true],
    ["12 inches", "\\boxed{12 \\text{ ft}}", false],
    ["30 \\text{ cm}", "\\boxed{30}", true],
    ["30", "\\boxed{30 \\text{ cm}}", true],
    ["2 hours", "\\boxed{120 \\text{ minutes}}", true],
    ["2 hours", "\\boxed{2 \\text{ minutes}}", false],
    ["10 \\text{ m}^2", "\\boxed{10 \\text{ square meters}}", true],
    ["10 \\text{ m}^2", "\\boxed{10 \\text{ m}}", false],
  ]);
});

Deno.test("forms: multiple-choice letters in their written forms", () => {
  check([
    ["B", "\\boxed{B}", true],
    ["B", "\\boxed{(B)}", true],
    ["B", "\\boxed{\\text{(B)}}", true],
    ["B", "\\boxed{\\textbf{(B)}}", true],
    ["B", "\\boxed{B) 12}", true],
    ["B", "\\boxed{(B)\\ 12}", true],
    ["B", "The answer is (B) 12.", true],
    ["B", "**Answer: B**", true],
    ["B", "Option B is correct.", true],
    ["B", "\\boxed{C}", false],
    ["(C)", "\\boxed{C}", true],
    ["\\text{(C)}", "I choose \\boxed{\\mathrm{C}}", true],
    ["C", "\\boxed{\\text{C. } 24}", true],
    ["D", "$\\boxed{\\textbf{(D) }\\frac{1}{2}}$", true],
  ]);
});

Deno.test("forms: matrices in their environments and as nested lists", () => {
  check([
    [
      "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
      "\\boxed{\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}}",
      true,
    ],
    [
      "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
      "\\boxed{\\begin{pmatrix} 1 & 2 \\\\ 4 & 3 \\end{pmatrix}}",
      false,
    ],
    ["\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\boxed{(1, 2)}", true],
    ["\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\boxed{[[1, 2], [3, 4]]}", true],
  ]);
});

Deno.test("forms: angles: degrees against radians", () => {
  check([
    ["\\frac{\\pi}{3}", "\\boxed{60^\\circ}", true],
    ["60^\\circ", "\\boxed{\\frac{\\pi}{3}}", true],
    ["60^\\circ", "\\boxed{60}", true],
    ["60", "\\boxed{60^\\circ}", true],
    ["\\frac{\\pi}{3}", "\\boxed{30^\\circ}", false],
    ["45^\\circ", "\\boxed{\\frac{\\pi}{3}}", false],
  ]);
});

Deno.test("forms: odd roots of negative bases are real", () => {
  check([
    ["-2", "\\boxed{\\sqrt[3]{-8}}", true],
    ["\\sqrt[3]{-8}", "\\boxed{(-8)^{1/3}}", true],
    ["-2", "\\boxed{(-8)^{\\frac{1}{3}}}", true],
    ["4", "\\boxed{(-8)^{2/3}}", true],
    ["2", "\\boxed{(-8)^{1/3}}", false],
  ]);
});

Deno.test("forms: malformed LaTeX a reader still understands", () => {
  check([
    ["\\frac{1}{2}", "\\boxed{\\frac{1}{2}", true],
    ["\\frac{1}{2}", "\\boxed{\\frac{1}{2}}}", true],
    ["\\frac{1}{2}", "\\boxed{\\frac{1}{2}}}", true],
    ["\\frac{1}{2}", "\\boxed{\\frac{1}{2}", true],
    ["\\frac{1}{2}", "\\boxed{frac{1}{2}}", true],
    ["\\sqrt{2}", "\\boxed{\\sqrt{2}", true],
    ["\\sqrt{2}", "\\boxed{\\sqrt 2}", true],
    ["\\frac{3}{4}", "\\boxed{\\dfrac34}", true],
    ["\\frac{1}{2}", "\\boxed{\\left(\\frac{1}{2}}", true],
    ["\\frac{1}{3}", "\\boxed{\\frac{1}{2}", false],
  ]);
});

Deno.test("forms: an open interval gold may be a point, so it takes inequalities only with relationAsSet", () => {
  assert(!verify("(1, 3)", "\\boxed{1 < x < 3}").correct);
  assert(verify("(1, 3)", "\\boxed{x > 1 \\wedge x < 3}", { relationAsSet: true }).correct);
  assert(!verify("(-\\infty, 1) \\cup (3, \\infty)", "\\boxed{y < 1 \\lor x > 3}").correct);
});

Deno.test("forms: sameUnit refuses an equal quantity in another unit", () => {
  assert(verify("5 kg", "\\boxed{5000 \\text{ g}}").correct);
  const v = verify("5 kg", "\\boxed{5000 \\text{ g}}", { sameUnit: true });
  assertEquals([v.correct, v.status], [false, "wrong"]);
  assert(verify("5 kg", "\\boxed{5 kilograms}", { sameUnit: true }).correct);
  assertEquals(verify("5 kg", "\\boxed{5 \\text{ m}}").reason, "different units (kg and m)");
});

Deno.test("forms: unit and bracket helpers", () => {
  assertEquals(splitUnit("10 \\text{ m}^2")?.dim, "length^2");
  assertEquals(splitUnit("12 square feet")?.value, "12");
  assertEquals(splitUnit("10cm"), null);
  assertEquals(splitUnit("2 x"), null);
  assertEquals(repairBrackets("\\frac{1}{2}}"), "\\frac{1}{2}");
  assertEquals(repairBrackets("(\\frac{1}{2}"), "(\\frac{1}{2})");
  assertEquals(repairBrackets("[1, 2"), null);
});

Deno.test("forms: no false positive on a sign, a bound, a unit or a letter that differs", () => {
  const wrong: [string, string][] = [
    ["x<2", "\\boxed{2x>4}"],
    ["x<2", "\\boxed{x \\le 2}"],
    ["x<2", "\\boxed{-x<2}"],
    ["x<2", "\\boxed{x^2<4}"],
    ["(-\\infty,-2)\\cup(3,\\infty)", "\\boxed{x<2 \\text{ or } x>3}"],
    ["(-\\infty,-2)\\cup(3,\\infty)", "\\boxed{-2<x<3}"],
    ["[-2,3]", "\\boxed{x \\le -2 \\text{ or } x \\ge 3}"],
    ["x \\ne 3", "\\boxed{x \\ne -3}"],
    ["x>0", "\\boxed{x>0 \\text{ or } x<0}"],
    ["(-\\infty, 5]", "\\boxed{x < 5}"],
    ["\\frac{1 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{-1\\pm\\sqrt5}{2}}"],
    ["1, 2 \\pm \\sqrt{3}", "\\boxed{-1, 2\\pm\\sqrt3}"],
    ["-1 \\pm 2i", "\\boxed{1 \\pm 2i}"],
    ["5 kg", "\\boxed{-5 kg}"],
    ["5 kg", "\\boxed{5 lb}"],
    ["5 \\text{ m}", "\\boxed{5 \\text{ ft}}"],
    ["2 hours", "\\boxed{2 days}"],
    ["12 \\text{ cm}", "\\boxed{12 \\text{ cm}^2}"],
    ["\\$5", "\\boxed{5 cents}"],
    ["60^\\circ", "\\boxed{-\\frac{\\pi}{3}}"],
    ["-2", "\\boxed{(-8)^{1/2}}"],
    ["B", "\\boxed{B, C}"],
    ["B", "\\boxed{Because}"],
    ["The number is 4.", "\\boxed{-4}"],
    ["2 and $\\sqrt{3}$", "\\boxed{2}"],
  ];
  assertEquals(wrong.filter(([g, r]) => verify(g, r).correct), []);
});
