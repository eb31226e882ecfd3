/**
 * WebGPU matmul throughput and dispatch overhead.
 *
 * As a script (`deno run -A bench/matmul_bench.ts [--large-tile] [--shapes=MxNxK,...]`) it prints the adapter,
 * GFLOP/s of the backend's matmul kernels for square and transformer-shaped problems (each timed as many
 * dispatches in one submit, waited with `onSubmittedWorkDone`), a plain TypeScript matmul for comparison, and
 * the cost of one tiny dispatch against the arithmetic it could have done. Shapes default to small ones on a
 * software adapter (llvmpipe) and to Qwen2.5-0.5B training shapes on a GPU.
 *
 * Under `deno bench` it registers one small matmul and the dispatch-overhead loop (skipped without an adapter).
 *
 * @module
 */

import {
  acquireGpu,
  BufferPool,
  CommandBatch,
  findAdapter,
  formatAdapter,
  type GpuContext,
  matmulKernel,
  type MatmulSpec,
  matmulTuningFor,
  PipelineCache,
  scaleKernel,
  TILE_LARGE,
} from "../trainer/gpu/webgpu/mod.ts";
import { benchFlags } from "./flags.ts";

/** One timed matmul problem. */
interface Problem extends MatmulSpec {
  label: string;
}

/** A device with its pool, pipelines and command batch. */
interface Rig {
  ctx: GpuContext;
  pool: BufferPool;
  batch: CommandBatch;
}

function rig(ctx: GpuContext): Rig {
  const pipelines = new PipelineCache(ctx.device);
  return { ctx, pool: new BufferPool(ctx.device), batch: new CommandBatch(ctx.device, pipelines) };
}

function randomFill(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

/** Milliseconds per dispatch of `spec`, timed over `reps` dispatches in one submit after a warm-up submit. */
async function timeMatmul(r: Rig, spec: MatmulSpec, reps: number): Promise<number> {
  const { m, n, k } = spec;
  const bufs = [m * k, k * n, m * n].map((len) => {
    const b = r.pool.acquire(len * 4);
    r.batch.upload(b, randomFill(len));
    return b;
  });
  const { kernel, groups } = matmulKernel(spec);
  r.batch.dispatch(kernel, bufs, groups);
  await r.batch.done();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) r.batch.dispatch(kernel, bufs, groups);
  await r.batch.done();
  const ms = (performance.now() - t0) / reps;
  bufs.forEach((b) => r.pool.release(b));
  r.pool.trim();
  return ms;
}

/** GFLOP/s of a plain TypeScript i-k-j matmul (one thread) for `m x n x k`. */
function cpuGflops(m: number, n: number, k: number): number {
  const a = randomFill(m * k), b = randomFill(k * n), c = new Float32Array(m * n);
  const t0 = performance.now();
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p], bo = p * n, co = i * n;
      for (let j = 0; j < n; j++) c[co + j] += av * b[bo + j];
    }
  }
  return (2 * m * n * k) / ((performance.now() - t0) / 1000) / 1e9;
}

/** Microseconds per tiny dispatch: batched in one submit, and one submit + wait each. */
async function dispatchOverhead(r: Rig, count: number): Promise<{ batchedUs: number; roundTripUs: number }> {
  const x = r.pool.acquire(256 * 4);
  const d = scaleKernel(256);
  const u = new Float32Array([1]);
  r.batch.dispatch(d.kernel, [x, u], d.groups);
  await r.batch.done();
  let t0 = performance.now();
  for (let i = 0; i < count; i++) r.batch.dispatch(d.kernel, [x, u], d.groups);
  await r.batch.done();
  const batchedUs = ((performance.now() - t0) * 1000) / count;
  const trips = Math.max(5, Math.floor(count / 20));
  t0 = performance.now();
  for (let i = 0; i < trips; i++) {
    r.batch.dispatch(d.kernel, [x, u], d.groups);
    await r.batch.done();
  }
  const roundTripUs = ((performance.now() - t0) * 1000) / trips;
  r.pool.release(x);
  return { batchedUs, roundTripUs };
}

function parseShapes(arg: string | undefined): Problem[] | null {
  if (!arg) return null;
  return arg.split(",").map((s) => {
    const [m, n, k] = s.split("x").map(Number);
    return { label: `${m}x${n}x${k}`, m, n, k };
  });
}

async function main(): Promise<void> {
  const ctx = await acquireGpu();
  const r = rig(ctx);
  const soft = ctx.info.isFallbackAdapter;
  const { values } = benchFlags("Run: deno task bench:matmul [flags]", {
    "large-tile": { type: "boolean", help: "use the large tile instead of the tuned one" },
    shapes: { type: "string", arg: "MxNxK,...", help: "matmul shapes to time instead of the built-in ones" },
  });
  const largeTile = values["large-tile"] === true;
  const tuning = matmulTuningFor(ctx.info);
  const tile = largeTile ? TILE_LARGE : tuning.tile;
  console.log(`adapter: ${formatAdapter(ctx.info)}`);
  console.log(`tile: ${JSON.stringify(tile)}; gemv for m <= ${tuning.gemvMaxM}`);
  const custom = parseShapes(values.shapes);
  // Qwen2.5-0.5B: hidden 896, intermediate 4864, 14 heads x 64, 2 KV heads; 4096 tokens per micro-batch.
  const problems: Problem[] = custom ?? (soft
    ? [
      { label: "square 256", m: 256, n: 256, k: 256 },
      { label: "square 512", m: 512, n: 512, k: 512 },
      { label: "x @ W^T 512x896x128 (NT)", m: 512, n: 896, k: 128, transB: true },
      { label: "dW = dY^T X 128x896x512 (TN)", m: 128, n: 896, k: 512, transA: true },
      { label: "decode 1x896x896 (gemv)", m: 1, n: 896, k: 896, transB: true },
    ]
    : [
      { label: "square 1024", m: 1024, n: 1024, k: 1024 },
      { label: "square 2048", m: 2048, n: 2048, k: 2048 },
      { label: "square 4096", m: 4096, n: 4096, k: 4096 },
      { label: "mlp up 4096x4864x896 (NT)", m: 4096, n: 4864, k: 896, transB: true },
      { label: "mlp down 4096x896x4864 (NT)", m: 4096, n: 896, k: 4864, transB: true },
      { label: "q_proj 4096x896x896 (NT)", m: 4096, n: 896, k: 896, transB: true },
      { label: "dX 4096x896x4864 (NN)", m: 4096, n: 896, k: 4864 },
      { label: "dW 4864x896x4096 (TN)", m: 4864, n: 896, k: 4096, transA: true },
      { label: "lm head 1024x151936x896 (NT)", m: 1024, n: 151936, k: 896, transB: true },
      { label: "decode 8x4864x896 (gemv)", m: 8, n: 4864, k: 896, transB: true },
    ]);
  const budgetMs = soft ? 1500 : 400;
  console.log("problem | ms/dispatch | GFLOP/s");
  let bestMsPerGflop = Infinity;
  for (const p of problems) {
    const spec: MatmulSpec = { ...p, tile, gemvMaxM: tuning.gemvMaxM };
    const flops = 2 * p.m * p.n * p.k;
    const once = await timeMatmul(r, spec, 1);
    const reps = Math.max(2, Math.min(200, Math.floor(budgetMs / Math.max(once, 0.01))));
    const ms = await timeMatmul(r, spec, reps);
    const gflops = flops / (ms / 1000) / 1e9;
    bestMsPerGflop = Math.min(bestMsPerGflop, ms / (flops / 1e9));
    console.log(`${p.label} | ${ms.toFixed(3)} | ${gflops.toFixed(1)}`);
  }
  const cpuShape = soft ? [256, 256, 256] : [512, 512, 512];
  console.log(
    `plain TypeScript i-k-j ${cpuShape.join("x")}: ${
      cpuGflops(cpuShape[0], cpuShape[1], cpuShape[2]).toFixed(2)
    } GFLOP/s`,
  );
  const o = await dispatchOverhead(r, soft ? 400 : 4000);
  const mflopPerDispatch = (o.batchedUs / 1000 / bestMsPerGflop) * 1000;
  console.log(
    `tiny dispatch (256 floats): ${o.batchedUs.toFixed(1)} us batched in one submit, ` +
      `${o.roundTripUs.toFixed(0)} us with a submit and wait each; ` +
      `one batched dispatch costs as much time as ${
        mflopPerDispatch.toFixed(2)
      } MFLOP of the best matmul above`,
  );
  r.pool.destroy();
  ctx.device.destroy();
}

if (import.meta.main) {
  await main();
} else {
  const adapter = await findAdapter();
  const r = adapter ? rig(await acquireGpu()) : null;
  if (r) console.log(`adapter: ${formatAdapter(r.ctx.info)}`);
  const tuning = r ? matmulTuningFor(r.ctx.info) : null;
  Deno.bench({
    name: "webgpu matmul 128x128x128, 8 dispatches per submit",
    ignore: !r,
    async fn() {
      await timeMatmul(r!, { m: 128, n: 128, k: 128, tile: tuning!.tile }, 8);
    },
  });
  Deno.bench({
    name: "webgpu tiny dispatch x100 in one submit",
    ignore: !r,
    async fn() {
      await dispatchOverhead(r!, 100);
    },
  });
}
