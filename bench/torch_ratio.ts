/**
 * The CPU backend against PyTorch on the same machine, the two sides interleaved round by round (one
 * measurement of every item per side per round, so a busy machine slows both alike); prints each item's median
 * rate on both sides and their ratio. Items: matmul 512^3 and 1024^3 (GFLOP/s), a training step of the bench
 * (0.8M parameters) and the small preset on 8 x 128 tokens (tokens/s: forward, backward, clipping, AdamW), and sampling with the KV
 * cache on the bench preset at batch 1 / 16 / 64 (16-token prompts, 32 new tokens, temperature 1, top-p 0.9;
 * new tokens/s) against Hugging Face `generate`. Both sides run on `--threads` threads.
 *
 * Run through bench/torch_ratio.sh (it makes the Python environment), or directly:
 *   deno run -A bench/torch_ratio.ts --python /path/to/venv/bin/python [--threads N] [--rounds R] [--quick]
 *     [--clock wall|cpu]
 * (--quick: no small preset, no 1024^3). `--clock cpu` times each side by its process's CPU time instead of the
 * wall clock: on a machine shared with other jobs, the fair measure for `--threads 1` (with more threads it
 * counts every thread's time, spinning included).
 *
 * @module
 */

import process from "node:process";
import { createCpuBackend, defaultThreads } from "../trainer/gpu/cpu/mod.ts";
import { type ModelConfig, presetConfig } from "../trainer/model/config.ts";
import { createModel, type Model } from "../trainer/model/model.ts";
import { generate } from "../trainer/model/decode.ts";
import { randn } from "../trainer/gpu/cpu/testing.ts";
import { createRng } from "../core/random/mod.ts";
import type { Backend } from "../trainer/gpu/backend.ts";
import { benchFlags } from "./flags.ts";

const { values } = benchFlags("Run: deno run -A bench/torch_ratio.ts --python PATH [flags]", {
  python: {
    type: "string",
    arg: "PATH",
    help: "a Python interpreter with torch and transformers (required)",
  },
  threads: { type: "string", arg: "N", help: "threads on both sides (default: the machine's cores)" },
  rounds: { type: "string", arg: "R", help: "interleaved rounds (default 5)" },
  quick: { type: "boolean", help: "leave out the small preset and 1024^3" },
  clock: {
    type: "string",
    arg: "wall|cpu",
    help: "time by the wall clock (default) or by each side's CPU time",
  },
});
if (!values.python) throw new Error("--python PATH (an interpreter with torch and transformers) is required");
const threads = Number(values.threads ?? defaultThreads());
const rounds = Number(values.rounds ?? 5);
const quick = values.quick ?? false;
const clock = values.clock ?? "wall";
if (clock !== "wall" && clock !== "cpu") throw new Error(`--clock must be wall or cpu, got ${clock}`);

/** Seconds on the chosen clock: the wall clock, or this process's CPU time (user + system, every thread). */
function now(): number {
  if (clock === "wall") return performance.now() / 1000;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Seconds per call of `fn` on the chosen clock, repeated until `minSeconds` pass (at least once). */
async function timed(fn: () => unknown, minSeconds: number): Promise<number> {
  let reps = 0;
  const t0 = now();
  do {
    await fn();
    reps++;
  } while (now() - t0 < minSeconds);
  return (now() - t0) / reps;
}

/** One item: the work per call (flops / 1e9 or tokens), the call, and the least time a measurement runs. */
interface Item {
  name: string;
  unit: string;
  work: number;
  run: () => unknown;
  minSeconds: number;
}

const [B, T] = [8, 128];
const bench = presetConfig("bench"), small = presetConfig("small");
const spec = {
  matmuls: [512, ...(quick ? [] : [1024])].map((n) => ({ name: `matmul ${n}^3`, n })),
  train: [["bench", bench, 0.5], ...(quick ? [] : [["small", small, 0]])].map((
    [name, config, minSeconds],
  ) => ({
    name: `train step ${name} ${B}x${T}`,
    config,
    batch: B,
    seqLen: T,
    minSeconds,
  })),
  sample: [1, 16, 64].map((batch) => ({
    name: `sampling bench batch ${batch}`,
    config: bench,
    batch,
    promptLen: 16,
    newTokens: 32,
  })),
};

const backend: Backend = createCpuBackend({ threads });
const models: Model[] = [];
const items: Item[] = [];
for (const { name, n } of spec.matmuls) {
  const [a, b, out] = [randn(1, n * n), randn(2, n * n), backend.alloc(n * n)];
  const [ta, tb] = [backend.alloc(n * n), backend.alloc(n * n)];
  backend.upload(ta, a);
  backend.upload(tb, b);
  items.push({
    name,
    unit: "GFLOP/s",
    work: (2 * n ** 3) / 1e9,
    run: () => backend.matmul({ a: ta, b: tb, out, m: n, n, k: n }),
    minSeconds: 0.3,
  });
}
for (const { name, config, batch, seqLen, minSeconds } of spec.train) {
  const model = createModel(config as ModelConfig, backend, { seed: 1 });
  models.push(model);
  const rng = createRng(1), V = (config as ModelConfig).vocab_size;
  const tokens = new Int32Array(batch * seqLen).map(() => rng.nextInt(V));
  // Every position but each sequence's last predicts the next token: the loss PyTorch's side takes.
  const mask = new Float32Array(batch * seqLen).map((_, i) => (i % seqLen < seqLen - 1 ? 1 : 0));
  const count = mask.reduce((a, b) => a + b, 0);
  const coeffs = mask.map((m) => -m / count);
  const step = async () => {
    model.zeroGrad();
    await model.forwardBackward({ tokens, batch, seqLen, mask }, coeffs);
    await model.step({ lr: 1e-3, maxGradNorm: 1, weightDecay: 0.01 });
  };
  await step();
  items.push({ name, unit: "tokens/s", work: batch * seqLen, run: step, minSeconds: minSeconds as number });
}
{
  const model = createModel(bench, backend, { seed: 1 });
  models.push(model);
  for (const { name, batch, promptLen, newTokens } of spec.sample) {
    const rng = createRng(batch);
    const prompts = Array.from(
      { length: batch },
      () => Array.from({ length: promptLen }, () => rng.nextInt(100)),
    );
    const run = () =>
      generate(model, prompts, { maxNewTokens: newTokens, temperature: 1, topP: 0.9, seed: 1 });
    await run();
    items.push({ name, unit: "tokens/s", work: batch * newTokens, run, minSeconds: 0 });
  }
}

// The PyTorch side: a child that measures one round per "round" line on stdin.
const child = new Deno.Command(values.python, {
  args: [
    new URL("./torch_ratio.py", import.meta.url).pathname,
    "--threads",
    String(threads),
    "--clock",
    clock,
    "--spec",
    JSON.stringify(spec),
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
const writer = child.stdin.getWriter();
let pending = "";
/** The child's next JSON line. */
const next = async () => {
  while (!pending.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the PyTorch side ended early");
    pending += value;
  }
  const at = pending.indexOf("\n"), line = pending.slice(0, at);
  pending = pending.slice(at + 1);
  return JSON.parse(line);
};
const ready = await next();
console.log(
  `CPU backend (${backend.device}) against PyTorch ${ready.torch} (${ready.threads} threads); ` +
    `${rounds} interleaved rounds, medians, ${clock} clock`,
);

const ours = new Map(items.map((i) => [i.name, [] as number[]]));
const theirs = new Map(items.map((i) => [i.name, [] as number[]]));
for (let r = 0; r < rounds; r++) {
  for (const item of items) ours.get(item.name)!.push(item.work / await timed(item.run, item.minSeconds));
  await writer.write(new TextEncoder().encode("round\n"));
  const rates = await next();
  for (const item of items) theirs.get(item.name)!.push(rates[item.name]);
}
await writer.write(new TextEncoder().encode("quit\n"));
await writer.close();
await child.status;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => x.toFixed(x < 10 ? 2 : x < 1000 ? 1 : 0);
console.log(
  `${"item".padEnd(30)} ${"unit".padEnd(9)} ${"ours".padStart(9)} ${"PyTorch".padStart(9)}  ours/PyTorch`,
);
const summary: Record<string, { ours: number; torch: number; ratio: number }> = {};
for (const item of items) {
  const o = median(ours.get(item.name)!), t = median(theirs.get(item.name)!);
  summary[item.name] = { ours: o, torch: t, ratio: o / t };
  console.log(
    `${item.name.padEnd(30)} ${item.unit.padEnd(9)} ${fmt(o).padStart(9)} ${fmt(t).padStart(9)}  ${
      (o / t).toFixed(2)
    }`,
  );
}
console.log(JSON.stringify({ threads, rounds, clock, torch: ready.torch, summary }));
for (const m of models) m.dispose();
backend.destroy();
