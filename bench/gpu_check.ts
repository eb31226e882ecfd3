/**
 * The WebGPU side of the GPU check (`bench/gpu_check.sh` runs it): on the first adapter found, with random
 * weights in the Qwen2.5-0.5B shapes (hidden 896, 24 layers, 14 heads of 64, 2 KV heads, vocabulary 151,936):
 *
 * - a training step (forward, backward, AdamW) on `--batch x --seq` tokens: tokens/s, and the backend's peak
 *   live GPU buffer bytes (its pool's high-water mark; the shell script adds nvidia-smi's process peak);
 * - batched sampling with the KV cache (64-token prompts, `--new` new tokens, top-p 0.9): new tokens/s at
 *   batch 1, 16 and 64.
 *
 * It prints one JSON object per measurement (`{"what": ..., ...}`) so the shell script can set them beside
 * PyTorch's. `--preset tiny` runs the same on the tiny preset (a smoke test that finishes on a software
 * adapter); `--max-seconds S` stops starting new measurements after S seconds (default 300).
 *
 * Run: deno run -A bench/gpu_check.ts [--preset qwen2.5-0.5b|tiny] [--batch 4] [--seq 512] [--new 64]
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { createWebGpuBackend } from "../trainer/gpu/webgpu/mod.ts";
import { type ModelPresetName, presetConfig } from "../trainer/model/config.ts";
import { createModel } from "../trainer/model/model.ts";
import { generate } from "../trainer/model/decode.ts";
import { createRng } from "../core/random/mod.ts";

const { values } = benchFlags("Run: deno run -A bench/gpu_check.ts [flags]", {
  preset: { type: "string", arg: "NAME", default: "qwen2.5-0.5b", help: "model preset (tiny: a smoke test)" },
  batch: { type: "string", arg: "B", default: "4", help: "sequences per training step" },
  seq: { type: "string", arg: "T", default: "512", help: "tokens per sequence" },
  new: { type: "string", arg: "N", default: "64", help: "new tokens per sampled sequence" },
  "max-seconds": {
    type: "string",
    arg: "S",
    default: "300",
    help: "start no new measurement after S seconds",
  },
});
const preset = values.preset as ModelPresetName;
const [B, T, NEW] = [Number(values.batch), Number(values.seq), Number(values.new)];
const deadline = performance.now() + 1000 * Number(values["max-seconds"]);
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

const backend = await createWebGpuBackend();
emit({ what: "adapter", device: backend.device, software: backend.context.info.isFallbackAdapter });
const config = presetConfig(preset);
const model = createModel(config, backend, { seed: 1 });
emit({ what: "model", preset, parameters: model.parameterCount });

// Training step on random tokens, loss over the last three quarters of each row (the last position has no target).
{
  const rng = createRng(1);
  const tokens = new Int32Array(B * T).map(() => rng.nextInt(config.vocab_size));
  const mask = new Float32Array(B * T).map((_, i) => (i % T >= T / 4 && i % T < T - 1 ? 1 : 0));
  const n = mask.reduce((a, b) => a + b, 0);
  const coeffs = mask.map((m) => -m / n);
  const step = async () => {
    model.zeroGrad();
    await model.forwardBackward({ tokens, batch: B, seqLen: T, mask }, coeffs);
    await model.step({ lr: 1e-5, maxGradNorm: 1, weightDecay: 0.01 });
    await backend.flush();
  };
  await step(); // compiles the pipelines
  const times: number[] = [];
  while (times.length < 5 && performance.now() < deadline) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  emit({
    what: "train step",
    batch: B,
    seq: T,
    steps: times.length,
    ms_median: ms,
    tokens_per_s: (B * T) / (ms / 1000),
    peak_live_gpu_bytes: backend.pool.stats.peakLiveBytes,
  });
}

// Batched sampling with the KV cache.
for (const batch of [1, 16, 64]) {
  if (performance.now() > deadline) {
    emit({ what: "sampling", batch, skipped: "time budget spent" });
    continue;
  }
  const rng = createRng(batch);
  const prompts = Array.from({ length: batch }, () => Array.from({ length: 64 }, () => rng.nextInt(1000)));
  const run = () => generate(model, prompts, { maxNewTokens: NEW, temperature: 1, topP: 0.9, seed: 1 });
  await run(); // compiles the decode pipelines for this batch
  const t0 = performance.now();
  const out = await run();
  const ms = performance.now() - t0;
  const tokens = out.reduce((s, o) => s + o.tokens.length, 0);
  emit({ what: "sampling", batch, new_tokens: tokens, ms, new_tokens_per_s: tokens / (ms / 1000) });
}

emit({ what: "peak", peak_live_gpu_bytes: backend.pool.stats.peakLiveBytes });
model.dispose();
backend.destroy();
