/**
 * CPU backend throughput, on 1 thread and on the machine's cores (or `--threads N`), the two interleaved round by
 * round so that a busy machine slows both alike; every figure is the median of the rounds.
 *
 * - the machine's SIMD multiply-add issue rate per core: twelve independent f32x4 FMA chains with no memory
 *   access, the most any WebAssembly SIMD128 kernel can reach on one core;
 * - the micro-kernel's ceiling: the MR x NR SIMD micro-kernel on cache-resident packed panels, per core (the
 *   "measured peak"; a thread count's peak is that times the threads), and its share of the issue rate;
 * - GFLOP/s and % of that peak for matmuls (square, and the bench preset's training and decoding shapes),
 *   attention forward/backward, cached attention at the tiny preset's decoding shapes, SwiGLU, RMSNorm, RoPE
 *   (elements/s) and the LM head's log-softmax (rows/s);
 * - tokens/s of a training step (forward, backward, AdamW) for the bench and the small preset, and new tokens/s
 *   of sampling with the KV cache (bench preset, batch 1 / 16 / 64);
 * - new tokens/s of the trainer's sampling step (tiny preset, 16 prompts x 8 samples) on the N-thread backend
 *   and on N decode replica threads (`trainer/model/replicas.ts`), interleaved;
 * - the ratio to the PyTorch figures recorded in issue 12 (PyTorch 2.13 CPU, 2 threads, on the issue's machine:
 *   a different CPU from most that run this, so read them as orientation, not as a same-machine comparison).
 *
 * Run: deno task bench:cpu [--threads N] [--rounds R] [--quick]   (--quick: fewer rounds, no small preset)
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { createCpuBackend, defaultThreads } from "../trainer/gpu/cpu/mod.ts";
import {
  CpuEngine,
  fmaIssueRate,
  type KernelExports,
  kernelModule,
  MR,
  NR,
  randn,
} from "../trainer/gpu/cpu/testing.ts";
import type { Backend } from "../trainer/gpu/backend.ts";
import { presetConfig } from "../trainer/model/config.ts";
import { createModel, type Model } from "../trainer/model/model.ts";
import { generate } from "../trainer/model/decode.ts";
import { DecodeReplicas } from "../trainer/model/replicas.ts";
import { createRng } from "../core/random/mod.ts";

const { values } = benchFlags("Run: deno task bench:cpu [flags]", {
  threads: {
    type: "string",
    arg: "N",
    help: "threads of the multi-threaded runs (default: the machine's cores)",
  },
  rounds: {
    type: "string",
    arg: "R",
    help: "interleaved rounds per measurement (default 5, 3 with --quick)",
  },
  quick: { type: "boolean", help: "fewer rounds, no small preset" },
});
const quick = values.quick ?? false;
const N = Number(values.threads ?? defaultThreads());
const ROUNDS = Number(values.rounds ?? (quick ? 3 : 5));
const THREADS = N > 1 ? [1, N] : [1];

/** PyTorch figures recorded in issue 12 (2 threads unless noted). */
const PYTORCH = {
  "matmul 512^3": 373,
  "matmul 1024^3": 359,
  "train bench": 23398,
  "train small": 1649,
  "sample b1": 715,
  "sample b16": 7185,
  "sample b64": 14188,
} as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds per call of `fn` (repeated until `minMs` passes). */
async function time(fn: () => unknown, minMs = 150): Promise<number> {
  let reps = 0;
  const t0 = performance.now();
  do {
    await fn();
    reps++;
  } while (performance.now() - t0 < minMs);
  return (performance.now() - t0) / reps;
}

/** Per thread count, the median over interleaved rounds of `rate(threads)` (one measurement each). */
async function interleaved(rate: (threads: number) => Promise<number>): Promise<Map<number, number>> {
  const runs = new Map<number, number[]>(THREADS.map((t) => [t, []]));
  for (let r = 0; r < ROUNDS; r++) for (const t of THREADS) runs.get(t)!.push(await rate(t));
  return new Map([...runs].map(([t, xs]) => [t, median(xs)]));
}

function row(label: string, rates: Map<number, number>, unit: string, peak?: number, pytorch?: number): void {
  const cells = THREADS.map((t) => {
    const v = rates.get(t)!;
    const pct = peak ? ` (${((100 * v) / (peak * t)).toFixed(0)}% of peak)` : "";
    return `${t} thr ${v.toFixed(v < 10 ? 2 : 1)}${pct}`;
  });
  const scale = THREADS.length > 1 ? `  x${(rates.get(N)! / rates.get(1)!).toFixed(2)} on ${N} threads` : "";
  const torch = pytorch ? `  ${(rates.get(N)! / pytorch).toFixed(2)}x PyTorch-2-threads (${pytorch})` : "";
  console.log(`${label.padEnd(34)} ${unit.padEnd(9)} ${cells.join("   ")}${scale}${torch}`);
}

// --- The micro-kernel's ceiling: macro() over one packed 12*MR x 16*NR block, 256 steps deep, all in cache. ---
function kernelPeak(): number {
  const mod = kernelModule(false)!;
  const memory = new WebAssembly.Memory({ initial: 8 });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes), { env: { mem: memory } })
    .exports as unknown as KernelExports;
  new Float32Array(memory.buffer).fill(0.001);
  const [mc, nc, kc] = [12 * MR, 16 * NR, 256];
  const a = 0, b = mc * kc * 4, c = b + kc * nc * 4;
  const run = () => ex.macro(a, b, c, nc * 4, mc, nc, kc, 1, 1);
  for (let i = 0; i < 200; i++) run();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 400; i++) run();
    rates.push((2 * mc * nc * kc * 400) / ((performance.now() - t0) * 1e6));
  }
  return median(rates);
}

// Before any engine exists: a pool's workers compiling their kernels would share the cores with it.
const issue = fmaIssueRate(ROUNDS);
const engines = new Map(THREADS.map((t) => [t, CpuEngine.create(t)!]));
const peak = kernelPeak();
console.log(
  `CPU backend: ${engines.get(N)!.isa}; threads ${
    THREADS.join(" and ")
  }; ${ROUNDS} interleaved rounds, medians`,
);
console.log(
  `SIMD multiply-add issue rate: ${issue.toFixed(1)} GFLOP/s per core (f32x4 FMA, no memory access)`,
);
console.log(
  `micro-kernel ceiling (${MR}x${NR} tile, cache-resident): ${peak.toFixed(1)} GFLOP/s per core, ${
    (100 * peak / issue).toFixed(0)
  }% of the issue rate\n`,
);

// --- Matmuls ---
const MATMULS: [string, number, number, number, boolean, boolean, number?][] = [
  ["matmul 512^3", 512, 512, 512, false, false, PYTORCH["matmul 512^3"]],
  ["matmul 1024^3", 1024, 1024, 1024, false, false, PYTORCH["matmul 1024^3"]],
  ["bench MLP up   1024x384x128 A@B^T", 1024, 384, 128, false, true],
  ["bench MLP down 1024x128x384 A@B", 1024, 128, 384, false, false],
  ["bench dW        384x128x1024 A^T@B", 384, 128, 1024, true, false],
  ["decode b1        1x384x128 A@B^T", 1, 384, 128, false, true],
  ["decode b64      64x384x128 A@B^T", 64, 384, 128, false, true],
];
for (const [label, m, n, k, transA, transB, pytorch] of MATMULS) {
  if (quick && m * n * k > 512 ** 3) continue;
  const a = randn(1, m * k), b = randn(2, k * n), out = new Float32Array(m * n);
  const shape = { m, n, k, transA, transB, alpha: 1, beta: 0 };
  const rates = await interleaved(async (t) => {
    const ms = await time(() => engines.get(t)!.matmul(a, b, out, shape));
    return (2 * m * n * k) / (ms * 1e6);
  });
  row(label, rates, "GFLOP/s", peak, pytorch);
}

// --- Attention and SwiGLU through the backend (bench preset shapes: 8 x 128 tokens, 4 heads of 32) ---
const backends = new Map(THREADS.map((t) => [t, createCpuBackend({ threads: t })]));
{
  const [batch, T, H, KV, D] = [8, 128, 4, 4, 32];
  const s = { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D };
  const flops = 2 * 2 * batch * H * ((T * (T + 1)) / 2) * D; // two products over the causal half
  const tensors = new Map([...backends].map(([t, be]) => {
    const up = (a: Float32Array) => {
      const x = be.alloc(a.length);
      be.upload(x, a);
      return x;
    };
    const n = batch * T * H * D;
    return [t, {
      q: up(randn(1, n)),
      k: up(randn(2, n)),
      v: up(randn(3, n)),
      out: be.alloc(n),
      lse: be.alloc(batch * H * T),
      dOut: up(randn(4, n)),
      dq: be.alloc(n),
      dk: be.alloc(n),
      dv: be.alloc(n),
    }];
  }));
  const fwd = await interleaved(async (t) => {
    const x = tensors.get(t)!;
    const ms = await time(() => backends.get(t)!.attentionForward({ ...x, ...s }));
    return flops / (ms * 1e6);
  });
  row("attention forward  8x128, 4x32", fwd, "GFLOP/s", peak);
  const bwd = await interleaved(async (t) => {
    const x = tensors.get(t)!;
    const ms = await time(() => backends.get(t)!.attentionBackward({ ...x, ...s }));
    return (2.5 * flops) / (ms * 1e6); // five products
  });
  row("attention backward 8x128, 4x32", bwd, "GFLOP/s", peak);
  const n = 1024 * 384;
  const swiglu = await interleaved(async (t) => {
    const be = backends.get(t)!;
    const [gate, up, out] = [be.alloc(n), be.alloc(n), be.alloc(n)];
    be.fill(gate, 0.5);
    be.fill(up, 0.5);
    const ms = await time(() => be.swigluForward({ gate, up, out, length: n }));
    for (const x of [gate, up, out]) be.free(x);
    return n / (ms * 1e3);
  });
  row("swiglu forward 1024x384", swiglu, "Melem/s");
}

// --- Row operations and cached attention at the shapes of `deno task train` (tiny preset: width 64, heads of 16;
// training batches of about 10,240 tokens, decoding steps of 128 sequences) ---
{
  const tiny = presetConfig("tiny");
  const [rows, dim, heads, kvHeads, headDim, vocab] = [10240, 64, 4, 2, 16, tiny.vocab_size];
  const perBackend = new Map([...backends].map(([t, be]) => {
    const up = (a: Float32Array | Int32Array) => {
      const x = be.alloc(a.length, a instanceof Int32Array ? "i32" : "f32");
      be.upload(x, a);
      return x;
    };
    const positions = Int32Array.from({ length: rows }, (_, i) => i % 80);
    return [t, {
      x: up(randn(5, rows * dim)),
      weight: up(randn(6, dim)),
      out: be.alloc(rows * dim),
      rstd: be.alloc(rows),
      positions: up(positions),
      lmWeight: up(randn(7, vocab * dim)),
      targets: up(Int32Array.from({ length: rows }, (_, i) => i % vocab)),
      stats: [be.alloc(rows), be.alloc(rows), be.alloc(rows)],
    }];
  }));
  type Operands = NonNullable<ReturnType<typeof perBackend.get>>;
  // Millions of `count` units a second (elements, or rows for the LM head).
  const rate = async (label: string, unit: string, count: number, op: (be: Backend, x: Operands) => void) => {
    const rates = await interleaved(async (t) => {
      const ms = await time(() => op(backends.get(t)!, perBackend.get(t)!));
      return count / (ms * 1e3);
    });
    row(label, rates, unit);
  };
  await rate(
    "rmsnorm forward 10240x64",
    "Melem/s",
    rows * dim,
    (be, x) =>
      be.rmsNormForward({ x: x.x, weight: x.weight, out: x.out, rstd: x.rstd, rows, dim, eps: 1e-6 }),
  );
  await rate(
    "rope 10240x4 heads of 16",
    "Melem/s",
    rows * dim,
    (be, x) => be.rope({ x: x.out, positions: x.positions, rows, heads, headDim, theta: 10000 }),
  );
  await rate("lm head fwd 10240x64, vocab 100", "Mrows/s", rows, (be, x) => {
    const [logprobs, entropies, lse] = x.stats;
    be.lmHeadForward({
      hidden: x.x,
      weight: x.lmWeight,
      targets: x.targets,
      logprobs,
      entropies,
      lse,
      rows,
      dim,
      vocab,
    });
  });
  // Cached attention: 128 sequences with 56 cached keys each, one new query row.
  const [batch, cap, len] = [128, 80, 56];
  const cached = new Map([...backends].map(([t, be]) => {
    const up = (a: Float32Array | Int32Array) => {
      const x = be.alloc(a.length, a instanceof Int32Array ? "i32" : "f32");
      be.upload(x, a);
      return x;
    };
    return [t, {
      q: up(randn(8, batch * heads * headDim)),
      kCache: up(randn(9, batch * cap * kvHeads * headDim)),
      vCache: up(randn(10, batch * cap * kvHeads * headDim)),
      lengths: up(new Int32Array(batch).fill(len)),
      out: be.alloc(batch * heads * headDim),
    }];
  }));
  const rates = await interleaved(async (t) => {
    const s = { batch, queryLen: 1, capacity: cap, heads, kvHeads, headDim };
    const ms = await time(() => backends.get(t)!.attentionCached({ ...cached.get(t)!, ...s }));
    return (4 * batch * heads * (len + 1) * headDim) / (ms * 1e6);
  });
  row("cached attn 128 seqs x 57, 4x16", rates, "GFLOP/s", peak);
}

// --- Training steps and sampling ---
function trainBatch(vocab: number, B: number, T: number) {
  const rng = createRng(1);
  const tokens = new Int32Array(B * T).map(() => rng.nextInt(vocab));
  const mask = new Float32Array(B * T).map((_, i) => (i % T >= T / 4 && i % T < T - 1 ? 1 : 0));
  const count = mask.reduce((a, b) => a + b, 0);
  return { batch: { tokens, batch: B, seqLen: T, mask }, coeffs: mask.map((m) => -m / count) };
}

async function trainRate(preset: "bench" | "small", label: string, pytorch: number): Promise<void> {
  const config = presetConfig(preset, { vocabSize: 100 });
  const [B, T] = [8, 128];
  const { batch, coeffs } = trainBatch(config.vocab_size, B, T);
  const models = new Map<number, Model>(
    [...backends].map(([t, be]) => [t, createModel(config, be, { seed: 1 })]),
  );
  const step = async (model: Model) => {
    model.zeroGrad();
    await model.forwardBackward(batch, coeffs);
    await model.step({ lr: 1e-3, maxGradNorm: 1, weightDecay: 0.01 });
  };
  for (const model of models.values()) await step(model); // warm-up
  const rates = await interleaved(async (t) => {
    const ms = await time(() => step(models.get(t)!), preset === "bench" ? 400 : 1);
    return (B * T) / (ms / 1000);
  });
  row(`${label} ${B}x${T}`, rates, "tokens/s", undefined, pytorch);
  for (const model of models.values()) model.dispose();
}

async function sampleRate(batch: number, pytorch: number, models: Map<number, Model>): Promise<void> {
  const rng = createRng(batch);
  const prompts = Array.from({ length: batch }, () => Array.from({ length: 16 }, () => rng.nextInt(100)));
  const run = (m: Model) => generate(m, prompts, { maxNewTokens: 32, temperature: 1, topP: 0.9, seed: 1 });
  for (const m of models.values()) await run(m);
  const rates = await interleaved(async (t) => {
    const ms = await time(() => run(models.get(t)!), 1);
    return (batch * 32) / (ms / 1000);
  });
  row(`sampling bench, batch ${batch}, 32 new`, rates, "tokens/s", undefined, pytorch);
}

console.log();
await trainRate("bench", "train step bench", PYTORCH["train bench"]);
if (!quick) await trainRate("small", "train step small", PYTORCH["train small"]);
{
  const config = presetConfig("bench");
  const models = new Map<number, Model>(
    [...backends].map(([t, be]) => [t, createModel(config, be, { seed: 1 })]),
  );
  await sampleRate(1, PYTORCH["sample b1"], models);
  await sampleRate(16, PYTORCH["sample b16"], models);
  await sampleRate(64, PYTORCH["sample b64"], models);
  for (const m of models.values()) m.dispose();
}

// The trainer's sampling step, split over operations on N threads or over sequences on N replica threads.
if (N > 1) {
  const model = createModel(presetConfig("tiny", { vocabSize: 100 }), backends.get(N)!, { seed: 1 });
  const replicas = new DecodeReplicas(N);
  const rng = createRng(7);
  const prompts = Array.from({ length: 16 }, () => Array.from({ length: 24 }, () => rng.nextInt(100)));
  const o = { samplesPerPrompt: 8, maxNewTokens: 32, temperature: 1, topP: 0.9, seed: 1 };
  const ways = [() => generate(model, prompts, o), () => replicas.generate(model, prompts, o)];
  for (const way of ways) await way(); // warm-up (the replicas start their threads and take the weights)
  const runs: number[][] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, way] of ways.entries()) runs[i].push((16 * 8 * 32) / ((await time(way, 1)) / 1000));
  }
  const [ops, seqs] = runs.map(median);
  const label = "sampling tiny 16x8 prompts, 32 new".padEnd(34);
  const cells = `${N} thr ${ops.toFixed(1)}   ${N} replicas ${seqs.toFixed(1)}`;
  console.log(`${label} ${"tokens/s".padEnd(9)} ${cells}  x${(seqs / ops).toFixed(2)}`);
  replicas.close();
  model.dispose();
}

for (const e of engines.values()) e.destroy();
for (const be of backends.values()) (be as Backend).destroy();
