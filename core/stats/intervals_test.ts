import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { meanInterval, pairedDifferenceInterval, seedInterval, wilsonInterval } from "./intervals.ts";

function near(actual: [number, number], expected: [number, number], eps = 5e-4) {
  assertAlmostEquals(actual[0], expected[0], eps);
  assertAlmostEquals(actual[1], expected[1], eps);
}

Deno.test("wilsonInterval: matches hand-computed Wilson bounds", () => {
  // p = 0.5, n = 100: centre 0.5, half = 1.96/(1+0.038415)*sqrt(0.0025+0.0000960) = 0.09617
  near(wilsonInterval(50, 100), [0.40383, 0.59617]);
  // p = 0.2, n = 25: centre (0.2+0.076829)/(1.153658) = 0.23996, half = 1.698884*sqrt(0.0064+0.001537) = 0.15137
  near(wilsonInterval(5, 25), [0.08859, 0.39133]);
  // 0 successes: lower bound 0, upper z²/(n+z²) = 3.841459/13.841459 = 0.27753
  near(wilsonInterval(0, 10), [0, 0.27753]);
  near(wilsonInterval(10, 10), [0.72247, 1]);
});

Deno.test("wilsonInterval: refuses impossible counts", () => {
  assertThrows(() => wilsonInterval(1, 0), RangeError);
  assertThrows(() => wilsonInterval(5, 4), RangeError);
  assertThrows(() => wilsonInterval(-1, 4), RangeError);
});

Deno.test("meanInterval and pairedDifferenceInterval: mean ± 1.96 sd/√n", () => {
  // values 0,0,1,1: mean 0.5, sd = sqrt(1/3) = 0.57735, se = 0.288675, half = 0.565792
  near(meanInterval([0, 0, 1, 1]), [-0.065792, 1.065792]);
  // differences: 1, 0, 0, 1, 0 -> mean 0.4, sd = sqrt(0.3) = 0.547723, se 0.244949, half 0.480091
  near(pairedDifferenceInterval([0, 1, 0, 0, 1], [1, 1, 0, 1, 1]), [-0.080091, 0.880091]);
  assertEquals(pairedDifferenceInterval([1, 0], [1, 0]), [0, 0]);
  assertThrows(() => pairedDifferenceInterval([1], [1, 0]), RangeError);
  assertThrows(() => meanInterval([]), RangeError);
});

Deno.test("seedInterval: Student's t with n - 1 degrees of freedom", () => {
  // 0.5, 0.6, 0.7: mean 0.6, sd 0.1, se 0.057735, t(2) = 4.303 -> half 0.248434
  near(seedInterval([0.5, 0.6, 0.7]), [0.351566, 0.848434]);
  assertEquals(seedInterval([0.42]), [0.42, 0.42]);
  assertThrows(() => seedInterval([]), RangeError);
});
