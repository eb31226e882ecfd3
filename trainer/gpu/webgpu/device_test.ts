import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { formatAdapter, GpuUnavailableError } from "./device.ts";
import { gpu, noGpu } from "./testing.ts";

Deno.test("GpuUnavailableError says why and what to do", () => {
  const e = new GpuUnavailableError("no adapter");
  assertEquals(e.name, "GpuUnavailableError");
  assertStringIncludes(e.message, "no adapter");
  assertStringIncludes(e.message, "CPU backend");
});

Deno.test({
  name: "acquireGpu requests the adapter's limits and reports its name",
  ignore: noGpu,
  fn: () => {
    const { adapter, device, info } = gpu();
    assertEquals(device.limits.maxStorageBufferBindingSize, adapter.limits.maxStorageBufferBindingSize);
    assertEquals(info.limits.maxComputeWorkgroupStorageSize, adapter.limits.maxComputeWorkgroupStorageSize);
    assert(info.description.length > 0);
    assertStringIncludes(formatAdapter(info), info.description);
    for (const f of info.features) assert(device.features.has(f as GPUFeatureName));
  },
});
