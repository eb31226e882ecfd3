import { assert, assertEquals, assertThrows } from "@std/assert";
import { BufferPool } from "./buffers.ts";
import { CommandBatch } from "./commands.ts";
import { matmulKernel, type MatmulSpec, matmulTuningFor, TILE_LARGE, TILE_SMALL } from "./matmul.ts";
import { PipelineCache } from "./pipelines.ts";
import { gpu, gpuInfo, maxRelErr, noGpu, randomArray, referenceMatmul, withValidation } from "./testing.ts";

async function runMatmul(spec: MatmulSpec): Promise<number> {
  const { device } = gpu();
  const pool = new BufferPool(device);
  const batch = new CommandBatch(device, new PipelineCache(device));
  const { m, n, k } = spec;
  const nb = spec.batch ?? 1;
  const a = randomArray(nb * m * k, 1), b = randomArray(nb * k * n, 2), c = randomArray(nb * m * n, 3);
  return await withValidation(device, async () => {
    const [ga, gb, gc] = [a, b, c].map((x) => {
      const buf = pool.acquire(x.byteLength);
      batch.upload(buf, x);
      return buf;
    });
    const { kernel, groups } = matmulKernel(spec);
    batch.dispatch(kernel, [ga, gb, gc], groups);
    const got = await batch.readF32(gc, 0, nb * m * n);
    pool.destroy();
    let err = 0;
    for (let z = 0; z < nb; z++) {
      const want = referenceMatmul(
        a.subarray(z * m * k, (z + 1) * m * k),
        b.subarray(z * k * n, (z + 1) * k * n),
        c.subarray(z * m * n, (z + 1) * m * n),
        m,
        n,
        k,
        spec,
      );
      err = Math.max(err, maxRelErr(got.subarray(z * m * n, (z + 1) * m * n), want));
    }
    return err;
  });
}

// Ragged and aligned shapes, every transposition, alpha/beta, batches, on the small tile (cheap to compile on a
// software adapter) and on gemv.
const cases: MatmulSpec[] = [
  { m: 64, n: 32, k: 16, tile: TILE_SMALL },
  { m: 37, n: 130, k: 20, tile: TILE_SMALL },
  { m: 33, n: 5, k: 7, transB: true, tile: TILE_SMALL },
  { m: 19, n: 12, k: 9, transA: true, beta: -2, tile: TILE_SMALL },
  { m: 17, n: 131, k: 33, transA: true, transB: true, alpha: 2, beta: 0.5, tile: TILE_SMALL },
  { m: 20, n: 8, k: 12, batch: 3, transB: true, tile: TILE_SMALL },
  { m: 2, n: 6, k: 5, variant: "tiled", tile: TILE_SMALL },
  { m: 1, n: 300, k: 70, transB: true },
  { m: 2, n: 9, k: 130, transA: true, transB: true, beta: 1, batch: 2 },
  { m: 1, n: 70, k: 45 },
];

// The 128x128 GPU tile costs ~20 s of CPU per shape to compile on llvmpipe: tested on real GPUs, or on a software
// adapter when WEBGPU_TEST_LARGE_TILE=1.
const largeTile = !gpuInfo()?.isFallbackAdapter || Deno.env.get("WEBGPU_TEST_LARGE_TILE") === "1";
const largeCases: MatmulSpec[] = [
  { m: 128, n: 128, k: 32 },
  { m: 130, n: 129, k: 17, transA: true, transB: true, alpha: 0.5, beta: 1 },
];

for (const spec of cases) {
  Deno.test({
    name: `matmul ${JSON.stringify(spec)} matches the f64 reference`,
    ignore: noGpu,
    fn: async () => {
      const err = await runMatmul(spec);
      assert(err < 1e-5, `max relative error ${err}`);
    },
  });
}

for (const spec of largeCases) {
  Deno.test({
    name: `matmul, large tile ${JSON.stringify(spec)} matches the f64 reference`,
    ignore: noGpu || !largeTile,
    fn: async () => {
      const err = await runMatmul({ ...spec, tile: TILE_LARGE });
      assert(err < 1e-5, `max relative error ${err}`);
    },
  });
}

Deno.test("matmulTuningFor picks the small tile and gemv for M = 1 only on software adapters", () => {
  assertEquals(matmulTuningFor({ isFallbackAdapter: true }), { tile: TILE_SMALL, gemvMaxM: 1 });
  assertEquals(matmulTuningFor({ isFallbackAdapter: false }).tile, TILE_LARGE);
  assertThrows(
    () =>
      matmulKernel({
        m: 8,
        n: 8,
        k: 8,
        variant: "tiled",
        tile: { threadsM: 8, threadsN: 8, perThreadM: 4, perThreadN: 4, bk: 4 },
      }),
    RangeError,
  );
});

Deno.test("matmulKernel rejects bad shapes and picks its variant", () => {
  assertThrows(() => matmulKernel({ m: 0, n: 1, k: 1 }), RangeError);
  assertThrows(() => matmulKernel({ m: 2.5, n: 1, k: 1 }), RangeError);
  assertThrows(() => matmulKernel({ m: 100, n: 1, k: 1, variant: "gemv" }), RangeError);
  assertEquals(matmulKernel({ m: 4, n: 8, k: 8 }).kernel.name.startsWith("matmul_gemv"), true);
  assertEquals(matmulKernel({ m: 300, n: 257, k: 8 }).groups, [3, 3, 1]);
});

Deno.test("matmulKernel drops bounds checks when the shape fits the tiles", () => {
  const fit = matmulKernel({ m: 256, n: 128, k: 64 }).kernel.code;
  assert(!fit.includes("< M") && !fit.includes("< N") && !fit.includes("gk < K"));
  assert(
    fit.includes("var c7_1 = vec4f(0.0);") && !fit.includes("c8_"),
    "8x8 outputs per thread in named vec4s",
  );
  const ragged = matmulKernel({ m: 250, n: 128, k: 64 }).kernel.code;
  assert(ragged.includes("< M") && !ragged.includes("< N"));
});
