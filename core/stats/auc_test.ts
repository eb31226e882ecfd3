import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { rocAuc } from "./auc.ts";

Deno.test("rocAuc: perfect, reversed, tied and hand-counted rankings", () => {
  assertEquals(rocAuc([3, 4], [1, 2]), 1);
  assertEquals(rocAuc([1, 2], [3, 4]), 0);
  assertEquals(rocAuc([1, 1], [1]), 0.5);
  // pairs (pos, neg): (2,1) win, (2,3) loss, (4,1) win, (4,3) win, ties none -> 3/4
  assertEquals(rocAuc([2, 4], [1, 3]), 0.75);
  // (2,2) tie counts 1/2: pos [2, 5] neg [2, 1]: (2,2) .5, (2,1) 1, (5,2) 1, (5,1) 1 -> 3.5/4
  assertAlmostEquals(rocAuc([2, 5], [2, 1]) as number, 0.875, 1e-12);
});

Deno.test("rocAuc: undefined without both classes; refuses non-finite scores", () => {
  assertEquals(rocAuc([], [1]), null);
  assertEquals(rocAuc([1], []), null);
  assertThrows(() => rocAuc([NaN], [1]), RangeError);
});
