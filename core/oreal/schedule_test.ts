import { assertAlmostEquals, assertThrows } from "@std/assert";
import { cosineSchedule } from "./schedule.ts";

const opts = { warmup: 2, total: 10, lr: 1, minLr: 0.2 };

Deno.test("cosineSchedule: linear warm-up then cosine to the floor", () => {
  assertAlmostEquals(cosineSchedule(0, opts), 0.5, 1e-12); // 1 * (0 + 1) / 2
  assertAlmostEquals(cosineSchedule(1, opts), 1.0, 1e-12); // 1 * 2 / 2
  assertAlmostEquals(cosineSchedule(2, opts), 1.0, 1e-12); // progress 0: 0.2 + 0.8 * (1 + 1) / 2
  assertAlmostEquals(cosineSchedule(6, opts), 0.6, 1e-12); // progress 4/8: 0.2 + 0.8 * (1 + 0) / 2
  // progress 6/8: cos(0.75 pi) = -0.7071068: 0.2 + 0.8 * 0.2928932 / 2 = 0.3171573
  assertAlmostEquals(cosineSchedule(8, opts), 0.3171573, 1e-7);
  assertAlmostEquals(cosineSchedule(10, opts), 0.2, 1e-12);
  assertAlmostEquals(cosineSchedule(50, opts), 0.2, 1e-12);
});

Deno.test("cosineSchedule: no warm-up and total = warmup", () => {
  assertAlmostEquals(cosineSchedule(0, { warmup: 0, total: 4, lr: 2, minLr: 0 }), 2, 1e-12);
  assertAlmostEquals(cosineSchedule(2, { warmup: 0, total: 4, lr: 2, minLr: 0 }), 1, 1e-12);
  assertAlmostEquals(cosineSchedule(3, { warmup: 3, total: 3, lr: 2, minLr: 0.5 }), 0.5, 1e-12);
});

Deno.test("cosineSchedule: invalid arguments throw", () => {
  assertThrows(() => cosineSchedule(-1, opts), RangeError, "step");
  assertThrows(() => cosineSchedule(0, { ...opts, lr: NaN }), RangeError, "lr");
  assertThrows(() => cosineSchedule(0, { ...opts, warmup: 11 }), RangeError, "exceeds");
});
