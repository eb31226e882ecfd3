import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { createRng, restoreRng } from "./mod.ts";

Deno.test("same seed gives the same stream, other seeds differ", () => {
  const a = createRng(42), b = createRng(42), c = createRng(43);
  const sa = Array.from({ length: 8 }, () => a.next());
  const sb = Array.from({ length: 8 }, () => b.next());
  const sc = Array.from({ length: 8 }, () => c.next());
  assertEquals(sa, sb);
  assertNotEquals(sa, sc);
});

Deno.test("next is uniform in [0, 1): mean and bucket counts", () => {
  const rng = createRng(7);
  const buckets = new Array(10).fill(0);
  let sum = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert(x >= 0 && x < 1);
    sum += x;
    buckets[Math.floor(x * 10)]++;
  }
  // Standard error of the mean is 0.29/sqrt(n) ~ 0.0009; of a bucket count ~ 95.
  assert(Math.abs(sum / n - 0.5) < 0.005);
  for (const b of buckets) assert(Math.abs(b - n / 10) < 600, `bucket ${b}`);
});

Deno.test("nextInt covers its range and rejects bad n", () => {
  const rng = createRng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(rng.nextInt(5));
  assertEquals([...seen].sort(), [0, 1, 2, 3, 4]);
  assertThrows(() => rng.nextInt(0), RangeError);
  assertThrows(() => rng.nextInt(2.5), RangeError);
  assertThrows(() => createRng(NaN), RangeError);
});

Deno.test("nextNormal has mean 0 and variance 1", () => {
  const rng = createRng(3);
  let s = 0, s2 = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const x = rng.nextNormal();
    s += x;
    s2 += x * x;
  }
  assert(Math.abs(s / n) < 0.03);
  assert(Math.abs(s2 / n - 1) < 0.04);
});

Deno.test("state and restoreRng resume the same stream", () => {
  const a = createRng(9);
  a.next();
  const b = restoreRng(a.state());
  assertEquals([b.next(), b.next(), b.nextInt(100)], [a.next(), a.next(), a.nextInt(100)]);
});
