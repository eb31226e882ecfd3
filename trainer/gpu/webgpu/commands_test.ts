import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { BufferPool } from "./buffers.ts";
import { CommandBatch, resolveAliasing } from "./commands.ts";
import { acquireGpu } from "./device.ts";
import { copyKernel, scaleKernel } from "./elementwise.ts";
import { PipelineCache } from "./pipelines.ts";
import { gpu, noGpu } from "./testing.ts";

Deno.test({
  name: "CommandBatch keeps uploads, dispatches and copies in recording order within one submit",
  ignore: noGpu,
  fn: async () => {
    const { device } = gpu();
    const pipelines = new PipelineCache(device);
    const batch = new CommandBatch(device, pipelines);
    const pool = new BufferPool(device);
    const x = pool.acquire(16), y = pool.acquire(16);
    const submits = batch.submits;
    batch.upload(x, new Float32Array([1, 2, 3, 4]));
    const s = scaleKernel(4);
    batch.dispatch(s.kernel, [x, new Float32Array([10])], s.groups);
    batch.copy(x, 0, y, 0, 16);
    batch.upload(x, new Float32Array([5, 6, 7, 8]));
    batch.dispatch(s.kernel, [x, new Float32Array([-1])], s.groups);
    assertEquals([...await batch.readF32(y, 0, 4)], [10, 20, 30, 40]);
    assertEquals([...await batch.readF32(x, 1, 2)], [-6, -7]);
    assertEquals(batch.submits - submits, 2);
    assertEquals(pipelines.size, 1);
    pool.destroy();
  },
});

Deno.test({
  name: "CommandBatch rebinds aliased read-only ranges as read-write, and reports device errors",
  ignore: noGpu,
  fn: async () => {
    // A device of its own: the deliberate error below must not reach the shared test device's listeners.
    const { device } = await acquireGpu();
    const batch = new CommandBatch(device, new PipelineCache(device));
    const pool = new BufferPool(device);
    const buf = pool.acquire(1024);
    batch.upload(buf, new Float32Array([1, 2, 3]));
    const c = copyKernel(3);
    batch.dispatch(
      c.kernel,
      [{ buffer: buf, offset: 0, size: 12 }, { buffer: buf, offset: 256, size: 12 }],
      c.groups,
    );
    assertEquals([...await batch.readF32(buf, 64, 3)], [1, 2, 3]);
    batch.dispatch({ name: "broken", code: "this is not wgsl", bindings: [] }, [], [1]);
    await assertRejects(() => batch.done(), Error, "WebGPU error");
    assertThrows(() => batch.dispatch(c.kernel, [buf], c.groups), Error, "bindings");
    pool.destroy();
    device.destroy();
  },
});

Deno.test("resolveAliasing only rewrites read bindings that share a buffer with a writable one", () => {
  const a = {} as GPUBuffer, b = {} as GPUBuffer;
  const k = copyKernel(4).kernel;
  assertEquals(resolveAliasing(k, [{ buffer: a }, { buffer: b }]), k);
  const r = resolveAliasing(k, [{ buffer: a }, { buffer: a }]);
  assertEquals(r.bindings, ["rw", "rw"]);
  assertEquals(r.code.includes("var<storage, read>"), false);
});
