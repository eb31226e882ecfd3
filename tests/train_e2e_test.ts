/**
 * End-to-end training on the CPU backend with tiny shapes: the CLI run as a subprocess, killed with SIGKILL
 * mid-run and resumed; then the store, the run folder and the summary are checked, and a run on a trivially easy
 * problem family must raise its pass rate.
 */
import { assert, assertEquals } from "@std/assert";
import { openStore } from "../trainer/store/mod.ts";
import { seedPgliteDir } from "../trainer/store/testing.ts";
import { runCurveSvg } from "../trainer/rl/curve.ts";
import type { RunSummary, StepMetrics } from "../trainer/rl/metrics.ts";
import { spawnTask } from "./tasks.ts";

const CLI = new URL("../trainer/cli/train.ts", import.meta.url).pathname;
const ABLATE = new URL("../trainer/cli/ablate.ts", import.meta.url).pathname;

/**
 * The trainer writes to PostgreSQL when DATABASE_URL is set (as in CI), else to PGlite in `--data-dir`, which each
 * test points into its own temporary folder, started from the test PGlite template (`seedPgliteDir`).
 */
const DATABASE_URL = Deno.env.get("DATABASE_URL");

/** Run names are unique per test run, so a reused PostgreSQL database never sees a taken name. */
function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Shapes small enough for a test: a 16-wide one-layer model, two prompts of two samples per step. */
const TINY = [
  "--backend",
  "cpu",
  "--hidden-size",
  "16",
  "--layers",
  "1",
  "--prompts-per-step",
  "2",
  "--samples-per-prompt",
  "2",
  "--test-problems",
  "4",
  "--train-problems",
  "50",
  "--pass-k",
  "2",
];

/**
 * Starts a trainer CLI (`deno task train` by default, or `ablate`) with its task's permissions, and `env` added
 * to its environment.
 */
function spawnTrain(args: string[], cli = CLI, env?: Record<string, string>): Deno.ChildProcess {
  return spawnTask(cli === CLI ? "train" : "ablate", cli, args, { env });
}

async function runToEnd(args: string[], env?: Record<string, string>): Promise<string> {
  const out = await spawnTrain(args, CLI, env).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  return text;
}

/** Runs the CLI until its output contains `marker`, then kills it with SIGKILL. */
async function runUntilThenKill(args: string[], marker: RegExp): Promise<string> {
  const child = spawnTrain(args);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!marker.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  child.kill("SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel();
  const status = await child.status;
  assert(marker.test(text), `the run ended before ${marker}: ${text}`);
  assertEquals(status.signal, "SIGKILL");
  return text;
}

Deno.test("train: SIGKILL mid-run, resume, and the store, metrics and summary agree", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_e2e_" });
  if (!DATABASE_URL) await seedPgliteDir(`${dir}/db`);
  const steps = 6;
  const name = uniqueName("e2e-resume");
  const args = [
    ...TINY,
    "--name",
    name,
    "--families",
    "addition",
    "--levels",
    "1",
    "--sft-steps",
    "4",
    "--steps",
    String(steps),
    "--max-new-tokens",
    "12",
    "--eval-every",
    "3",
    "--seed",
    "3",
    "--out",
    dir,
    "--data-dir",
    `${dir}/db`,
  ];
  await runUntilThenKill(args, /step 2\/6/);
  // A second start without --resume refuses to overwrite the run.
  const refused = await spawnTrain(args).output();
  assertEquals(refused.code, 2);
  assert(new TextDecoder().decode(refused.stderr).includes("--resume"));
  const resumed = await runToEnd([...args, "--resume"]);
  assert(resumed.includes("resuming from the checkpoint of step"), resumed);

  const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)) as RunSummary;
  for (
    const key of [
      "method",
      "preset",
      "seed",
      "backend",
      "adapter",
      "steps",
      "sft_pass1",
      "final_pass1",
      "best_pass1",
      "best_step",
      "wall_seconds",
      "tokens_per_second",
    ]
  ) assert(key in summary, `summary.json lacks ${key}`);
  assertEquals([summary.method, summary.preset, summary.seed, summary.backend, summary.steps], [
    "oreal",
    "tiny",
    3,
    "cpu",
    steps,
  ]);
  assertEquals(summary.resumed, true);
  assertEquals(summary.sampled_responses, steps * 4);
  assert(summary.best_pass1 >= summary.sft_pass1 && summary.best_pass1 >= summary.final_pass1);
  assertEquals(summary.evals.map((e) => e.step), [0, 3, 6]);
  assert(summary.tokens_per_second_by_phase.sampling > 0);

  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l) as StepMetrics
  );
  assertEquals(lines.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
  // The curve, drawn by the resumed process, covers the steps of both processes.
  assertEquals(await Deno.readTextFile(`${dir}/curve.svg`), runCurveSvg(name, summary.evals, lines, 2));
  const config = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint/config.json`));
  assertEquals(config.hidden_size, 16);
  await Deno.stat(`${dir}/checkpoint/model.safetensors`);
  await Deno.stat(`${dir}/checkpoint/tokenizer.json`);
  assert((await Deno.stat(`${dir}/model.onnx`)).size > 1000);

  const store = await openStore(DATABASE_URL ? { databaseUrl: DATABASE_URL } : { dataDir: `${dir}/db` });
  try {
    const run = await store.findRun(name);
    if (run === null) throw new Error("the run is not in the store");
    assertEquals(run.status, "finished");
    assertEquals(await store.latestStep(run.id), steps);
    const series = await store.metricsSeries(run.id);
    assertEquals(series.map((p) => p.step), [1, 2, 3, 4, 5, 6]);
    const keys = new Set<string>();
    let count = 0;
    for await (const r of store.iterateRollouts(run.id)) {
      keys.add(`${r.step}/${r.problemSource}/${r.problemId}/${r.sampleIndex}`);
      count++;
      assertEquals(r.reward, r.correct ? 1 : -1);
      if (r.kept) assert(r.advantage !== null);
    }
    // Nothing lost, nothing twice: 2 prompts x 2 samples in each of the 6 steps.
    assertEquals(count, steps * 4);
    assertEquals(keys.size, steps * 4);
    for (const p of series) assertEquals(p.metrics.passRate, lines[p.step - 1].passRate);
    assertEquals((await store.checkpointsOf(run.id)).length, 1);
  } finally {
    await store.close();
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "train: a new PGlite folder is created while the run starts, and holds the whole run",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "train_newdb_" });
    const steps = 3;
    const args = [
      ...TINY,
      "--families",
      "addition",
      "--levels",
      "1",
      "--sft-steps",
      "30",
      "--steps",
      String(steps),
      "--max-new-tokens",
      "12",
      "--eval-every",
      "0",
      "--out",
      `${dir}/run`,
      "--data-dir",
      `${dir}/db`,
    ];
    // No --name: the default name is taken without asking the store, which does not exist yet. An empty
    // DATABASE_URL (as CI sets one) makes the trainer use PGlite in --data-dir.
    const text = await runToEnd(args, { DATABASE_URL: "" });
    assert(text.includes(`store ${dir}/db`), text);
    const store = await openStore({ dataDir: `${dir}/db` });
    try {
      const run = await store.findRun("tiny-oreal-s1");
      if (run === null) throw new Error("the run is not in the store");
      assertEquals(run.status, "finished");
      assertEquals((await store.metricsSeries(run.id)).map((p) => p.step), [1, 2, 3]);
      let count = 0;
      for await (const _ of store.iterateRollouts(run.id)) count++;
      assertEquals(count, steps * 4);
    } finally {
      await store.close();
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("train: the pass rate on a trivially easy problem family rises", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_easy_" });
  if (!DATABASE_URL) await seedPgliteDir(`${dir}/db`);
  // Every answer is 7. A short SFT teaches the format, but sampled responses are still mostly wrong.
  const rows = Array.from(
    { length: 60 },
    (_, i) =>
      JSON.stringify({ id: i, problem: `Item ${i}: what is seven?`, solution: "\\boxed{7}", answer: "7" }),
  );
  await Deno.writeTextFile(`${dir}/easy.jsonl`, rows.join("\n") + "\n");
  const steps = 15;
  await runToEnd([
    "--name",
    uniqueName("e2e-easy"),
    "--backend",
    "cpu",
    "--method",
    "oreal-no-rm",
    "--hidden-size",
    "32",
    "--layers",
    "1",
    "--data",
    `${dir}/easy.jsonl`,
    "--test-problems",
    "10",
    "--prompts-per-step",
    "8",
    "--samples-per-prompt",
    "8",
    "--sft-steps",
    "20",
    "--sft-lr",
    "2e-2",
    "--lr",
    "2e-3",
    "--steps",
    String(steps),
    "--max-new-tokens",
    "12",
    "--eval-every",
    "0",
    "--pass-k",
    "2",
    "--out",
    `${dir}/run`,
    "--data-dir",
    `${dir}/db`,
  ]);
  const lines = (await Deno.readTextFile(`${dir}/run/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l) as StepMetrics
  );
  const mean = (xs: StepMetrics[]) => xs.reduce((s, m) => s + m.passRate, 0) / xs.length;
  const first = mean(lines.slice(0, 3)), last = mean(lines.slice(-3));
  assert(last > first + 0.15, `pass rate did not rise: first steps ${first}, last steps ${last}`);
  const summary = JSON.parse(await Deno.readTextFile(`${dir}/run/summary.json`)) as RunSummary;
  for (const phase of ["sampling", "scoring", "update"] as const) {
    assert(summary.tokens_per_second_by_phase[phase] > 0, `no ${phase} throughput`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ablate: every method trains a few steps on the running-sum task, and the report has intervals", async () => {
  const dir = await Deno.makeTempDir({ prefix: "abl_e2e_" });
  if (!DATABASE_URL) await seedPgliteDir(`${dir}/db`);
  const out = await spawnTrain(
    [
      "--seeds",
      "1",
      "--out",
      dir,
      "--data-dir",
      `${dir}/db`,
      ...TINY,
      "--families",
      "chain",
      "--levels",
      "1",
      "--sft-steps",
      "3",
      "--steps",
      "3",
      "--rm-warmup-steps",
      "1",
      "--max-new-tokens",
      "24",
      "--eval-every",
      "0",
    ],
    ABLATE,
  ).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  const methods = ["oreal", "oreal-oracle", "oreal-no-rm", "grpo", "reinforce", "reinforce-01", "rft"];
  for (const method of methods) {
    const s = JSON.parse(await Deno.readTextFile(`${dir}/${method}-s1/summary.json`)) as RunSummary;
    assertEquals([s.method, s.steps], [method, 3]);
    assert(s.test_problems >= 1 && s.test_problems <= 4, `${s.test_problems} test problems`);
    for (const ci of [s.sft_pass1_ci95, s.final_pass1_ci95, s.gain_ci95]) {
      assert(ci.length === 2 && ci[0] <= ci[1], `${method}: bad interval ${ci}`);
    }
    assert(s.sft_pass1_ci95[0] <= s.sft_pass1 && s.sft_pass1 <= s.sft_pass1_ci95[1]);
    assert(s.sft_faithfulness === null || (s.sft_faithfulness >= 0 && s.sft_faithfulness <= 1));
    // Only oreal has a token RM; its AUC is measured once the batch holds both verdicts.
    if (method !== "oreal") assertEquals(s.final_rm_auc, null, method);
    const lines = (await Deno.readTextFile(`${dir}/${method}-s1/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l) as StepMetrics
    );
    assertEquals(lines.length, 3);
    if (method !== "oreal") assert(lines.every((l) => l.rmAuc === null), method);
  }
  const md = await Deno.readTextFile(`${dir}/ablation.md`);
  for (const method of methods) assert(md.includes(`| ${method} | 1 |`), `ablation.md lacks ${method}`);
  assert((await Deno.readTextFile(`${dir}/ablation.svg`)).includes('class="bar"'));
  assert((await Deno.readTextFile(`${dir}/ablation_curve.svg`)).includes("<path"));
  // --report-only rewrites the report from the finished runs without training anything.
  await Deno.remove(`${dir}/ablation.md`);
  const report = await spawnTrain(["--report-only", "--seeds", "1,2", "--out", dir], ABLATE).output();
  const reportText = new TextDecoder().decode(report.stdout);
  assertEquals(report.code, 0, reportText + new TextDecoder().decode(report.stderr));
  assert(reportText.includes("oreal-s2: not finished"), reportText);
  assert((await Deno.readTextFile(`${dir}/ablation.md`)).includes("| oreal | 1 |"));
  await Deno.remove(dir, { recursive: true });
});
