import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { grpoAdvantages, rlooAdvantages } from "./advantages.ts";

function assertAllClose(actual: number[], expected: number[], tol = 1e-9) {
  assertEquals(actual.length, expected.length);
  actual.forEach((a, i) => assertAlmostEquals(a, expected[i], tol, `index ${i}`));
}

Deno.test("rlooAdvantages: K = 4, p = 1/2", () => {
  // sum r = 0; A_correct = 1 - (0 - 1)/3 = 4/3; A_wrong = -1 - (0 + 1)/3 = -4/3.
  // Closed form: A+ = 2K(1-p)/(K-1) = 2*4*0.5/3 = 4/3, A- = -2Kp/(K-1) = -4/3.
  assertAllClose(rlooAdvantages([1, -1, 1, -1]), [4 / 3, -4 / 3, 4 / 3, -4 / 3]);
});

Deno.test("rlooAdvantages: K = 4, p = 1/4 matches the closed form", () => {
  // sum r = -2; A_correct = 1 - (-2 - 1)/3 = 2 (= 2*4*0.75/3); A_wrong = -1 - (-2 + 1)/3 = -2/3 (= -2*4*0.25/3).
  assertAllClose(rlooAdvantages([1, -1, -1, -1]), [2, -2 / 3, -2 / 3, -2 / 3]);
});

Deno.test("rlooAdvantages: K = 2 and all-equal rewards", () => {
  // K = 2: A_0 = 1 - (-1) = 2, A_1 = -1 - 1 = -2.
  assertAllClose(rlooAdvantages([1, -1]), [2, -2]);
  // all equal: r - (sum - r)/(K-1) = 1 - 2/2 = 0.
  assertAllClose(rlooAdvantages([1, 1, 1]), [0, 0, 0]);
  assertAllClose(rlooAdvantages([-1, -1]), [0, 0]);
});

Deno.test("grpoAdvantages: sample standard deviation", () => {
  // mean 0, sample variance 4/3, std = 1.1547005; A = ±1/1.1547005 = ±0.8660254 (sqrt(3)/2).
  assertAllClose(grpoAdvantages([1, -1, 1, -1]), [0.8660254, -0.8660254, 0.8660254, -0.8660254], 1e-7);
  // mean -0.5, squared deviations 2.25 + 3*0.25 = 3, variance 3/3 = 1: A = r + 0.5.
  assertAllClose(grpoAdvantages([1, -1, -1, -1]), [1.5, -0.5, -0.5, -0.5], 1e-7);
  // K = 2: variance (1 + 1)/1 = 2, A = ±1/sqrt(2).
  assertAllClose(grpoAdvantages([1, -1]), [Math.SQRT1_2, -Math.SQRT1_2], 1e-7);
});

Deno.test("grpoAdvantages: all-equal rewards give zeros, eps is respected", () => {
  assertAllClose(grpoAdvantages([1, 1, 1, 1]), [0, 0, 0, 0]);
  // eps = 1: A = 0.5 / (1 + 1) with [1, 0]: mean 0.5, var (0.25 + 0.25)/1 = 0.5, std 0.7071068.
  assertAllClose(grpoAdvantages([1, 0], 1), [0.5 / 1.7071068, -0.5 / 1.7071068], 1e-7);
});

Deno.test("advantages: bad input throws naming the problem", () => {
  assertThrows(() => rlooAdvantages([1]), RangeError, "at least 2");
  assertThrows(() => grpoAdvantages([]), RangeError, "at least 2");
  assertThrows(() => rlooAdvantages([1, NaN, -1]), RangeError, "reward 1");
  assertThrows(() => grpoAdvantages([1, -1, Infinity]), RangeError, "reward 2");
  assertThrows(() => grpoAdvantages([1, -1], -1), RangeError, "eps");
});
