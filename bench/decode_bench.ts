/**
 * Decoding throughput of the trainer's sampler (`generate`: shared prefill, KV cache, top-p 0.9 sampling) for
 * 1, 16, 64 and 256 sequences with the `tiny` preset on the CPU backend. Every iteration samples `NEW` tokens
 * after a `PROMPT`-token prompt per sequence (no stop tokens, so every sequence runs to the limit), so
 * new tokens/s = batch * NEW / (time per iteration); each benchmark's name gives its batch * NEW.
 *
 * Run: deno bench -A bench/decode_bench.ts   (DECODE_BENCH_NEW / DECODE_BENCH_PROMPT override 32 / 16)
 *
 * With a hardware WebGPU adapter it also benchmarks the Qwen2.5-0.5B shapes (random weights, 64-token prompts,
 * 128 new tokens, top-p 0.9: the setting of the Hugging Face `generate` comparison in the issue); software
 * adapters (llvmpipe, SwiftShader) are skipped, as these shapes would take hours there.
 *
 * @module
 */

import { createCpuBackend } from "../trainer/gpu/cpu/mod.ts";
import { createBackend } from "../trainer/gpu/auto.ts";
import { presetConfig } from "../trainer/model/config.ts";
import { createModel, type Model } from "../trainer/model/model.ts";
import { generate } from "../trainer/model/decode.ts";
import { createRng } from "../core/random/mod.ts";

const NEW = Number(Deno.env.get("DECODE_BENCH_NEW") ?? 32);
const PROMPT = Number(Deno.env.get("DECODE_BENCH_PROMPT") ?? 16);
const BATCHES = [1, 16, 64, 256];

const config = presetConfig("tiny");
const model = createModel(config, createCpuBackend(), { seed: 1 });

function prompts(batch: number, length: number, vocab: number): number[][] {
  const rng = createRng(batch);
  return Array.from({ length: batch }, () => Array.from({ length }, () => rng.nextInt(vocab)));
}

async function decode(m: Model, batch: number, prompt = PROMPT, maxNewTokens = NEW): Promise<number> {
  const p = prompts(batch, prompt, m.config.vocab_size);
  const out = await generate(m, p, { maxNewTokens, temperature: 1, topP: 0.9, seed: 1 });
  return out.reduce((n, s) => n + s.tokens.length, 0);
}

for (const batch of BATCHES) {
  Deno.bench(`decode tiny cpu, batch ${batch} (${batch * NEW} new tokens)`, {
    group: "decode-cpu",
    n: batch >= 64 ? 1 : 4,
    warmup: 1,
  }, async () => {
    await decode(model, batch);
  });
}

const gpu = await createBackend("webgpu").then((c) => c.backend).catch(() => null);
if (gpu && !/software|llvmpipe|swiftshader|lavapipe/i.test(gpu.device)) {
  const big = createModel(presetConfig("qwen2.5-0.5b"), gpu, { seed: 1 });
  for (const batch of [1, 64, 256]) {
    Deno.bench(`decode qwen2.5-0.5b shapes ${gpu.device}, batch ${batch} (${batch * 128} new tokens)`, {
      group: "decode-gpu",
      n: 1,
      warmup: 1,
    }, async () => {
      await decode(big, batch, 64, 128);
    });
  }
} else {
  gpu?.destroy();
}
