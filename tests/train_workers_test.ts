/**
 * Training with rollout worker processes against real PostgreSQL: the CLI run as a subprocess with
 * `--rollout-workers 2 --max-policy-lag 1`, one of its workers SIGKILLed while it holds a job; the run must
 * finish with every response stored exactly once, each with the policy version that sampled it.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import postgres from "postgres";
import { ConfigError, parseTrainArgs } from "../trainer/rl/config.ts";
import { openStore } from "../trainer/store/mod.ts";
import { spawnTask } from "./tasks.ts";

const CLI = new URL("../trainer/cli/train.ts", import.meta.url).pathname;
const DATABASE_URL = Deno.env.get("DATABASE_URL");
if (DATABASE_URL === undefined) {
  console.log("train_workers_test: DATABASE_URL is not set; training with rollout workers is skipped");
}

/** Starts `deno task train` with its task's permissions. */
function spawnTrain(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return spawnTask("train", CLI, args, { env });
}

Deno.test("train: workers without PostgreSQL are refused, naming PGlite; --max-policy-lag needs workers", () => {
  for (const flags of [["--rollout-workers", "2"], ["--external-workers"]]) {
    assertThrows(() => parseTrainArgs(flags, {}), ConfigError, "PGlite database serves one process only");
  }
  const url = { DATABASE_URL: "postgres://u@h/db" };
  assertEquals(parseTrainArgs(["--rollout-workers", "2", "--max-policy-lag", "1"], url).rolloutWorkers, 2);
  assertThrows(() => parseTrainArgs(["--max-policy-lag", "1"], url), ConfigError, "needs rollout workers");
  assertThrows(
    () => parseTrainArgs(["--external-workers", "--max-policy-lag", "2"], url),
    ConfigError,
    "0 or 1",
  );
  assertEquals(parseTrainArgs([], url).rolloutWorkers, undefined);
});

Deno.test({
  name: "train: 2 rollout workers, lag 1, one SIGKILLed mid-job; every rollout stored once with its version",
  ignore: DATABASE_URL === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "train_workers_" });
    const name = `e2e-workers-${crypto.randomUUID().slice(0, 8)}`;
    const steps = 5, prompts = 3, samples = 8;
    const child = spawnTrain([
      "--backend",
      "cpu",
      "--threads",
      "1",
      "--hidden-size",
      "64",
      "--layers",
      "2",
      "--prompts-per-step",
      String(prompts),
      "--samples-per-prompt",
      String(samples),
      "--test-problems",
      "4",
      "--train-problems",
      "50",
      "--pass-k",
      "2",
      "--sft-steps",
      "3",
      "--steps",
      String(steps),
      "--max-new-tokens",
      "120",
      "--eval-every",
      "0",
      "--rollout-workers",
      "2",
      "--max-policy-lag",
      "1",
      "--name",
      name,
      "--out",
      dir,
      "--database-url",
      DATABASE_URL!,
    ]);
    const output = Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.status,
    ]);
    const db = postgres(DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      // Kill a worker while it holds a job of this run; confirm afterwards it had not written it.
      let midJob = 0;
      const deadline = Date.now() + 300_000;
      let finished = false;
      output.then(() => finished = true);
      while (!finished && midJob === 0 && Date.now() < deadline) {
        const rows = await db`select j.id, j.leased_by from rollout_jobs j join runs r on r.id = j.run_id
          where r.name = ${name} and j.status = 'leased'`;
        if (rows.length > 0) {
          const pid = Number(String(rows[0].leased_by).split(":").at(-2));
          try {
            Deno.kill(pid, "SIGKILL");
          } catch { /* it has just exited */ }
          await new Promise((r) => setTimeout(r, 50));
          const [after] = await db`select status, attempts from rollout_jobs where id = ${rows[0].id}`;
          if (after.status !== "done" || Number(after.attempts) > 1) midJob = Number(rows[0].id);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      const [stdout, stderr, status] = await output;
      assertEquals(status.code, 0, stdout + stderr);
      assert(midJob !== 0, `no worker was caught holding a job\n${stdout}`);
      assert(stdout.includes("exited with status"), stdout);

      const [job] = await db`select status, attempts from rollout_jobs where id = ${midJob}`;
      assertEquals(job.status, "done");
      assert(Number(job.attempts) >= 2, `the killed worker's job was leased ${job.attempts} time(s)`);
      const perJob =
        await db`select count(*)::int as n from job_rollouts jr join rollout_jobs j on j.id = jr.job_id
        join runs r on r.id = j.run_id where r.name = ${name} group by j.id`;
      assertEquals(perJob.length, steps * prompts);
      for (const row of perJob) assertEquals(row.n, samples);

      const store = await openStore({ databaseUrl: DATABASE_URL });
      try {
        const run = (await store.findRun(name))!;
        assertEquals(run.status, "finished");
        const keys = new Set<string>();
        const versions = new Map<number, Set<number>>();
        for await (const r of store.iterateRollouts(run.id)) {
          keys.add(`${r.step}/${r.problemSource}/${r.problemId}/${r.sampleIndex}`);
          versions.set(r.step, (versions.get(r.step) ?? new Set()).add(r.policyVersion));
        }
        assertEquals(keys.size, steps * prompts * samples);
        // Step 1 is sampled by the SFT policy (version 0); from step 2 on, one step of overlap: version s - 2.
        for (let s = 1; s <= steps; s++) assertEquals([...versions.get(s)!], [Math.max(0, s - 2)]);
        const series = await store.metricsSeries(run.id);
        assertEquals(series.map((p) => p.metrics.policyLag), [0, 1, 1, 1, 1]);
      } finally {
        await store.close();
      }
      const open = await db`select count(*)::int as n from rollout_jobs j join runs r on r.id = j.run_id
        where r.name = ${name} and j.status <> 'done'`;
      assertEquals(open[0].n, 0);
      await assertGone(`${dir}/policies`);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await output.catch(() => {});
      await db.end({ timeout: 5 });
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function assertGone(path: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  throw new Error(`${path} is still there`);
}
