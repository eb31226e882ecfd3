/**
 * Inputs shared by the verifier benchmark and latency script: numeric, symbolic, set/interval and long
 * responses, each a list of `[gold, response]` pairs.
 *
 * @module
 */

/** Plain numeric answers in a short boxed response. */
export const NUMERIC: [string, string][] = Array.from({ length: 64 }, (_, k) => [
  String(k * 37 + 11),
  `We compute step by step, so the answer is $\\boxed{${k % 3 === 0 ? k * 37 + 12 : k * 37 + 11}}$.`,
]);

/** Symbolic expressions, equal and unequal. */
export const SYMBOLIC: [string, string][] = [
  ["(x+1)^2", "\\boxed{x^2+2x+1}"],
  ["\\frac{\\sqrt{3}}{2}", "\\boxed{\\sin(\\pi/3)}"],
  ["2\\sin b \\cos a", "\\boxed{\\sin(a+b)-\\sin(a-b)}"],
  ["\\frac{8-7x}{6}", "\\boxed{4/3-7x/6}"],
  ["(2x+3)(2x-1)(2x+1)", "\\boxed{(2x-1)(2x+1)(2x+4)}"],
  ["11z^{7}(5+11z^{7})", "\\boxed{11z^7(11z^7+5)}"],
  ["\\frac{\\pi r}{h+r}", "\\boxed{\\frac{\\pi r}{r+h}}"],
  ["3\\sqrt{13}", "\\boxed{\\sqrt{117}}"],
];

/** Sets, tuples and intervals. */
export const SETS: [string, string][] = [
  ["\\{1, 2, 3\\}", "\\boxed{\\{3, 1, 2\\}}"],
  ["(1, \\frac{9}{2})", "\\boxed{(1, 4.5)}"],
  ["[-1, -\\frac{1}{2}) \\cup (0, \\infty)", "\\boxed{[-1, -0.5) \\cup (0, \\infty)}"],
  ["x \\in [0.5, \\infty)", "\\boxed{[1/2, \\infty)}"],
  ["3 \\pm 2\\sqrt{2}", "\\boxed{3 \\pm 2\\sqrt2}"],
  ["(2, 2), (1, 3), (3, 3)", "\\boxed{(1, 3), (3, 3), (2, 2)}"],
];

/** Long responses (about 20,000 characters of reasoning before the boxed answer). */
export const LONG: [string, string][] = [
  [
    "\\frac{14}{3}",
    `${"Let $f(x) = \\frac{3x-2}{x-2}$. We check each value in turn and simplify. ".repeat(270)}` +
    "So the total is $\\boxed{\\frac{14}{3}}$.",
  ],
  [
    "42",
    `${"First we count the cases; there are 7 of them and each has 6 options, 7*6 = 42. ".repeat(250)}` +
    "Final Answer: The final answer is 42. I hope it is correct.",
  ],
];
