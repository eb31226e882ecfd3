import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { meanPassAtK, passAtK } from "./pass_at_k.ts";

Deno.test("passAtK matches the combinatorial definition", () => {
  const choose = (n: number, k: number): number => k === 0 ? 1 : (n * choose(n - 1, k - 1)) / k;
  for (const [n, c, k] of [[10, 3, 1], [10, 3, 4], [8, 0, 2], [5, 5, 5], [16, 1, 8]]) {
    assertAlmostEquals(passAtK(n, c, k), 1 - choose(n - c, k) / choose(n, k), 1e-12);
  }
  assertEquals(passAtK(4, 2, 1), 0.5);
  assertEquals(passAtK(4, 2, 3), 1);
  assertEquals(passAtK(4, 0, 4), 0);
});

Deno.test("meanPassAtK averages and bad arguments throw", () => {
  assertAlmostEquals(meanPassAtK([0, 4, 2], 4, 1), 0.5, 1e-12);
  assertThrows(() => passAtK(4, 5, 1), RangeError);
  assertThrows(() => passAtK(4, 1, 0), RangeError);
  assertThrows(() => meanPassAtK([], 4, 1), RangeError);
});
