import { assert, assertEquals, assertThrows } from "@std/assert";
import { BufferPool, sizeClass } from "./buffers.ts";
import { gpu, noGpu } from "./testing.ts";

Deno.test("sizeClass rounds up to quarter-octave classes, 4 MiB steps above 64 MiB", () => {
  assertEquals(sizeClass(0), 256);
  assertEquals(sizeClass(256), 256);
  assertEquals(sizeClass(257), 320);
  assertEquals(sizeClass(1000), 1024);
  assertEquals(sizeClass(1025), 1280);
  assertEquals(sizeClass(65 * 2 ** 20), 68 * 2 ** 20);
  for (const n of [300, 4097, 123456, 7_000_001]) {
    const c = sizeClass(n);
    assert(c >= n && c <= n * 1.25 + 16 && c % 16 === 0, `${n} -> ${c}`);
  }
  assertThrows(() => sizeClass(-1), RangeError);
});

Deno.test({
  name: "BufferPool reuses released buffers of the same class and rejects double release",
  ignore: noGpu,
  fn: () => {
    const pool = new BufferPool(gpu().device);
    const a = pool.acquire(1000);
    assertEquals(a.size, 1024);
    pool.release(a);
    const b = pool.acquire(900);
    assert(a === b, "same size class is reused");
    const c = pool.acquire(900);
    assert(c !== b);
    assertEquals(pool.stats.liveBytes, 2048);
    assertEquals(pool.stats.created, 2);
    assertEquals(pool.stats.reused, 1);
    pool.release(b);
    assertThrows(() => pool.release(b), Error, "not live");
    assertEquals(pool.trim(), 1024);
    pool.destroy();
    assertEquals(pool.stats.allocatedBytes, 0);
  },
});
