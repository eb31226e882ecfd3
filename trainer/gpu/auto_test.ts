import { assert, assertEquals, assertRejects } from "@std/assert";
import { autoRule, type BackendChoice, createBackend, matmulProbe } from "./auto.ts";

const tiny = { rows: 1024, hidden: 128, intermediate: 384 };
const large = { rows: 4096, hidden: 896, intermediate: 4864 };

Deno.test("autoRule: CPU without an adapter, WebGPU on hardware, size-dependent on a software adapter", () => {
  assertEquals(autoRule(null, large), "cpu");
  assertEquals(autoRule({ software: false }, tiny), "webgpu");
  assertEquals(autoRule({ software: true }, tiny), "cpu");
  assertEquals(autoRule({ software: true }, large), "measure");
});

Deno.test("createBackend: cpu on request, auto for tiny shapes reports the adapter, bad names rejected", async () => {
  const cpu = await createBackend("cpu");
  assertEquals(cpu.name, "cpu");
  cpu.backend.destroy();
  const auto = await createBackend("auto", { shape: tiny });
  // Whatever this machine has, tiny shapes go to WebGPU only on a hardware adapter.
  assert(auto.name === "cpu" || auto.reason === "hardware adapter", auto.reason);
  if (auto.gpuAdapter !== null) assert(auto.reason.includes(auto.gpuAdapter) || auto.name === "webgpu");
  auto.backend.destroy();
  await assertRejects(() => createBackend("tpu" as BackendChoice), Error, "unknown backend");
});

Deno.test("matmulProbe enqueues work and frees what it allocates", async () => {
  const { backend } = await createBackend("cpu");
  let allocs = 0, frees = 0;
  const counting = {
    ...backend,
    alloc: (n: number) => (allocs++, backend.alloc(n)),
    free: (t: never) => (frees++, backend.free(t)),
  };
  await matmulProbe({ rows: 4, hidden: 8, intermediate: 16 })(counting);
  assertEquals([allocs, frees], [4, 4]);
});
