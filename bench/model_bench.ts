/**
 * Training-step throughput of the model (forward + backward + AdamW) for the tiny preset: on the CPU backend,
 * and on WebGPU when a hardware adapter exists (a software one with MODEL_BENCH_WEBGPU=1). Before the
 * benchmarks it prints where a CPU step's time goes, per backend operation.
 *
 * Run: deno task bench:model   (MODEL_BENCH_BATCH / MODEL_BENCH_SEQ override the 8 x 128 shape)
 *
 * @module
 */

import process from "node:process";
import type { Backend } from "../trainer/gpu/backend.ts";
import { createCpuBackend } from "../trainer/gpu/cpu/mod.ts";
import { createBackend } from "../trainer/gpu/auto.ts";
import type { WebGpuBackend } from "../trainer/gpu/webgpu/mod.ts";
import { presetConfig } from "../trainer/model/config.ts";
import { createModel, type Model } from "../trainer/model/model.ts";
import type { TokenBatch } from "../trainer/model/batch.ts";
import { createRng } from "../core/random/mod.ts";

const B = Number(Deno.env.get("MODEL_BENCH_BATCH") ?? 8);
const T = Number(Deno.env.get("MODEL_BENCH_SEQ") ?? 128);
const config = presetConfig("tiny", { vocabSize: 100 });

function makeBatch(): { batch: TokenBatch; coeffs: Float32Array } {
  const rng = createRng(1);
  const tokens = new Int32Array(B * T).map(() => rng.nextInt(config.vocab_size));
  const mask = new Float32Array(B * T).map((_, i) => (i % T >= T / 4 && i % T < T - 1 ? 1 : 0));
  const n = mask.reduce((a, b) => a + b, 0);
  return { batch: { tokens, batch: B, seqLen: T, mask }, coeffs: mask.map((m) => -m / n) };
}

const { batch, coeffs } = makeBatch();

async function trainStep(model: Model): Promise<void> {
  model.zeroGrad();
  await model.forwardBackward(batch, coeffs);
  await model.step({ lr: 1e-3, maxGradNorm: 1, weightDecay: 0.01 });
}

/** Wraps a backend so that the wall time of every operation is summed per operation name. */
function timed(inner: Backend, totals: Map<string, number>): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const out = value.apply(target, args);
        totals.set(String(prop), (totals.get(String(prop)) ?? 0) + performance.now() - t0);
        return out;
      };
    },
  });
}

// Where a CPU training step's time goes (2 steps after a warm-up). Process CPU time is printed beside wall time:
// on a shared machine the wall time includes waiting for a core.
{
  const totals = new Map<string, number>();
  const model = createModel(config, timed(createCpuBackend(), totals), { seed: 1 });
  await trainStep(model);
  totals.clear();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await trainStep(model);
  await trainStep(model);
  const ms = (performance.now() - t0) / 2;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / 2;
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(
    `tiny (${model.parameterCount} params), batch ${B} x ${T}, CPU backend: ${ms.toFixed(0)} ms/step wall ` +
      `(${((B * T) / (ms / 1000)).toFixed(0)} tokens/s), ${cpuMs.toFixed(0)} ms/step CPU time ` +
      `(${((B * T) / (cpuMs / 1000)).toFixed(0)} tokens/s per core)`,
  );
  for (const [op, t] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(
      `  ${op.padEnd(18)} ${(t / 2).toFixed(1).padStart(8)} ms/step  ${
        (100 * t / all).toFixed(1).padStart(5)
      }%`,
    );
  }
  model.dispose();
}

const cpuModel = createModel(config, createCpuBackend(), { seed: 1 });
Deno.bench({
  name: `train step, tiny ${B}x${T}, cpu`,
  group: "train",
  baseline: true,
  n: 5,
  warmup: 1,
  fn: async () => {
    await trainStep(cpuModel);
  },
});

// WebGPU: always on a hardware adapter; on a software one (llvmpipe) only with MODEL_BENCH_WEBGPU=1, since its
// pipelines take minutes to compile there and `auto` would not pick it for these shapes anyway.
const gpu = await createBackend("webgpu").catch(() => null);
const software = gpu !== null && (gpu.backend as WebGpuBackend).context.info.isFallbackAdapter;
if (gpu && software && Deno.env.get("MODEL_BENCH_WEBGPU") !== "1") {
  console.log(`software WebGPU adapter ${gpu.adapter}: skipped (set MODEL_BENCH_WEBGPU=1 to include it)`);
  gpu.backend.destroy();
} else if (gpu) {
  const gpuModel = createModel(config, gpu.backend, { seed: 1 });
  // Agreement with the CPU oracle on the same weights (also compiles the forward pipelines).
  const reference = createModel(config, createCpuBackend(), { seed: 1 });
  const [want, got] = [(await reference.logprobs(batch)).logprobs, (await gpuModel.logprobs(batch)).logprobs];
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got[i]));
  console.log(`webgpu vs cpu, same weights: max |logprob difference| ${diff.toExponential(2)}`);
  reference.dispose();
  await trainStep(gpuModel); // compiles the backward and optimiser pipelines
  Deno.bench({
    name: `train step, tiny ${B}x${T}, webgpu (${gpu.adapter})`,
    group: "train",
    n: 5,
    warmup: 1,
    fn: async () => {
      await trainStep(gpuModel);
      await gpu.backend.flush();
    },
  });
} else console.log("no WebGPU adapter: CPU backend only");
