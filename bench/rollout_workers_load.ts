/**
 * Rollout throughput with 0, 1 and 2 worker processes, against the PostgreSQL server of `DATABASE_URL`.
 *
 *   DATABASE_URL=postgres://... deno run -A bench/rollout_workers_load.ts [--model DIR] [--steps 4]
 *     [--prompts 16] [--samples 8] [--max-new-tokens 48] [--workers 0,1,2] [--threads 2]
 *
 * The policy is `--model DIR` (e.g. a run's `sft/` folder) or a randomly initialised tiny-preset model. Each
 * step is `--prompts` chain problems x `--samples` responses, as `deno task train` samples them:
 * - 0 workers: `sampleAndVerify` in this process on a CPU backend of `--threads` threads (the trainer's path);
 * - N workers: N `deno task rollout-worker` processes of one thread each, started and warmed up (policy loaded)
 *   first (a worker that got no warm-up job loads the policy on the clock); the clock runs from the enqueue of all steps' jobs until the last one is done.
 * Prints rollouts/s for each setting and its ratio to the in-process one, measured in this one run.
 * @module
 */
import { CHAT_TEMPLATES, generateProblems } from "../core/data/mod.ts";
import { createCharTokenizer } from "../core/tokenizer/mod.ts";
import { createBackend } from "../trainer/gpu/auto.ts";
import { loadCheckpoint } from "../trainer/model/checkpoint.ts";
import { presetConfig } from "../trainer/model/config.ts";
import { createModel, type Model } from "../trainer/model/model.ts";
import { sampleAndVerify } from "../trainer/rl/rollout.ts";
import { openStore } from "../trainer/store/mod.ts";
import { RolloutPool } from "../trainer/workers/pool.ts";
import { openQueue } from "../trainer/workers/queue.ts";
import { benchFlags } from "./flags.ts";

const { values } = benchFlags(
  "Run: DATABASE_URL=postgres://... deno run -A bench/rollout_workers_load.ts [flags]",
  {
    model: { type: "string", arg: "DIR", help: "policy folder (default: a random tiny-preset model)" },
    steps: { type: "string", arg: "N", default: "4", help: "steps timed" },
    prompts: { type: "string", arg: "N", default: "16", help: "prompts per step" },
    samples: { type: "string", arg: "K", default: "8", help: "responses per prompt" },
    "max-new-tokens": { type: "string", arg: "N", default: "48", help: "response length limit" },
    workers: {
      type: "string",
      arg: "0,1,2",
      default: "0,1,2",
      help: "worker processes per setting (0: in process)",
    },
    threads: { type: "string", arg: "N", default: "2", help: "CPU threads of the in-process sampler" },
  },
);
const url = Deno.env.get("DATABASE_URL");
if (!url) throw new Error("set DATABASE_URL to a PostgreSQL server");
const steps = Number(values.steps), prompts = Number(values.prompts), samples = Number(values.samples);
const maxNewTokens = Number(values["max-new-tokens"]);
const WORKER_CLI = new URL("../trainer/cli/rollout_worker.ts", import.meta.url).pathname;

const tokenizer = createCharTokenizer();
const files = { tokenizer, chatTemplate: CHAT_TEMPLATES.plain };
const { backend } = await createBackend("cpu", { threads: Number(values.threads) });
const model: Model = values.model
  ? (await loadCheckpoint(values.model, backend)).model
  : createModel(presetConfig("tiny", { vocabSize: tokenizer.vocabSize }), backend, { seed: 1 });
const problems = generateProblems({
  count: steps * prompts,
  seed: 9,
  families: ["chain"],
  levels: [1, 2],
  split: "train",
});
const settings = { samplesPerPrompt: samples, maxNewTokens, temperature: 1, topP: 0.9, topK: 0 };

async function inProcess(): Promise<{ rollouts: number; seconds: number }> {
  const t0 = performance.now();
  let rollouts = 0;
  for (let s = 0; s < steps; s++) {
    const groups = await sampleAndVerify(model, tokenizer, problems.slice(s * prompts, (s + 1) * prompts), {
      ...settings,
      seed: s,
      template: "plain",
    });
    rollouts += groups.reduce((n, g) => n + g.rollouts.length, 0);
  }
  return { rollouts, seconds: (performance.now() - t0) / 1000 };
}

async function withWorkers(n: number): Promise<{ rollouts: number; seconds: number }> {
  const store = await openStore({ databaseUrl: url });
  const queue = await openQueue({ databaseUrl: url });
  const out = await Deno.makeTempDir({ prefix: "rollout_bench_" });
  const runId = await store.createRun({
    name: `bench-workers-${crypto.randomUUID().slice(0, 8)}`,
    method: "bench",
    config: {},
  });
  const pool = new RolloutPool({
    queue,
    runId,
    out,
    files,
    tokenizer,
    template: "plain",
    maxPolicyLag: 0,
    localWorkers: 0,
    worker: { databaseUrl: url!, backend: "cpu", threads: 1 },
    log: () => {},
    pollMs: 20,
  });
  const children: Deno.ChildProcess[] = [];
  try {
    await pool.publish(0, model);
    // Warm-up: every worker has started (printed its first line) and one job has loaded the policy before the
    // clock starts.
    for (let i = 0; i < n; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          WORKER_CLI,
          "--run",
          String(runId),
          "--backend",
          "cpu",
          "--threads",
          "1",
          "--poll-ms",
          "20",
        ],
        env: { DATABASE_URL: url! },
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.push(child);
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      await lines.read();
      (async () => { // keep reading, so that the worker never blocks on a full pipe
        while (!(await lines.read()).done) { /* discard */ }
      })();
    }
    await pool.enqueue(1, 0, problems.slice(0, n), { ...settings, template: "plain" }, 1);
    await pool.collect(1);
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      await pool.enqueue(s + 2, 0, problems.slice(s * prompts, (s + 1) * prompts), {
        ...settings,
        template: "plain",
      }, s);
    }
    let rollouts = 0;
    for (let s = 0; s < steps; s++) {
      const sampled = await pool.collect(s + 2);
      rollouts += sampled.groups.reduce((k, g) => k + g.rollouts.length, 0);
    }
    return { rollouts, seconds: (performance.now() - t0) / 1000 };
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => c.status));
    await store.setRunStatus(runId, "finished");
    await queue.close();
    await store.close();
    await Deno.remove(out, { recursive: true });
  }
}

const results: { setting: string; rollouts: number; seconds: number; perSecond: number }[] = [];
for (const n of values.workers!.split(",").map(Number)) {
  const r = n === 0 ? await inProcess() : await withWorkers(n);
  const setting = n === 0
    ? `in-process (${values.threads} threads)`
    : `${n} worker process(es), 1 thread each`;
  results.push({ setting, ...r, perSecond: r.rollouts / r.seconds });
  console.log(
    `${setting}: ${r.rollouts} rollouts in ${r.seconds.toFixed(2)} s = ${
      (r.rollouts / r.seconds).toFixed(1)
    }/s`,
  );
}
const base = results[0].perSecond;
for (const r of results) {
  console.log(
    `${r.setting.padEnd(40)} ${r.perSecond.toFixed(1).padStart(8)}/s  ratio ${
      (r.perSecond / base).toFixed(2)
    }`,
  );
}
model.dispose();
backend.destroy();
