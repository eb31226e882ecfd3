import { assert, assertEquals, assertRejects } from "@std/assert";
import { CHAT_TEMPLATES, generateProblems, type Problem } from "../../core/data/mod.ts";
import { createCharTokenizer } from "../../core/tokenizer/mod.ts";
import { createBackend } from "../gpu/auto.ts";
import type { Backend } from "../gpu/backend.ts";
import { createModel, type Model } from "../model/model.ts";
import { localVerifier, sampleAndVerify } from "../rl/rollout.ts";
import postgres from "postgres";
import { openStore } from "../store/mod.ts";
import {
  folderHash,
  loadPolicyVersion,
  mapPath,
  parseMount,
  PolicyUnavailableError,
  pruneVersions,
  writePolicyVersion,
} from "./policy.ts";
import { RolloutPool } from "./pool.ts";
import { type JobSettings, openQueue } from "./queue.ts";
import { sampleJobs } from "./worker.ts";
import { spawnTask } from "../../tests/tasks.ts";

const DATABASE_URL = Deno.env.get("DATABASE_URL");
if (DATABASE_URL === undefined) {
  console.log("worker_test: DATABASE_URL is not set; the tests with worker processes are skipped");
}
const WORKER_CLI = new URL("../cli/rollout_worker.ts", import.meta.url).pathname;
const tokenizer = createCharTokenizer();
const FILES = { tokenizer, chatTemplate: CHAT_TEMPLATES.plain };

async function tinyModel(backend: Backend, hidden = 16, layers = 1): Promise<Model> {
  return await Promise.resolve(createModel(
    {
      hidden_size: hidden,
      intermediate_size: 3 * hidden,
      num_hidden_layers: layers,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      rope_theta: 10000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
      max_position_embeddings: 512,
      vocab_size: tokenizer.vocabSize,
    },
    backend,
    { seed: 3 },
  ));
}

function chainProblems(n: number): Problem[] {
  return generateProblems({ count: n, seed: 5, families: ["chain"], levels: [1], split: "train" });
}

Deno.test("policy versions: written whole, checked against their hash, mapped through mounts", async () => {
  const { backend } = await createBackend("cpu", { threads: 1 });
  const root = await Deno.makeTempDir();
  try {
    const model = await tinyModel(backend);
    const v3 = await writePolicyVersion(root, 3, model, FILES);
    assert(v3.path.endsWith("/v-000003"));
    assertEquals(await folderHash(v3.path), v3.sha256);
    const loaded = await loadPolicyVersion(v3, backend);
    const problems = chainProblems(3);
    const settings: JobSettings = {
      samplesPerPrompt: 3,
      maxNewTokens: 12,
      temperature: 1,
      topP: 0.9,
      topK: 0,
      seed: 7,
      template: "plain",
    };
    // The published folder samples exactly what the trainer's own model samples, and a job sampled in a batch
    // with others gets the responses it gets alone (each job draws from streams of its own seed).
    const jobs = problems.map((problem, i) => ({
      id: i + 1,
      runId: 1,
      step: 1,
      groupIndex: i,
      policyVersion: 3,
      problem,
      settings: { ...settings, seed: 7 + i },
      policy: v3,
      leaseToken: "t",
      attempts: 1,
    }));
    const batched = await sampleJobs(jobs, loaded, localVerifier);
    for (let i = 0; i < jobs.length; i++) {
      const [alone] = await sampleJobs([jobs[i]], loaded, localVerifier);
      assertEquals(batched[i], alone);
      const [own] = await sampleAndVerify(model, tokenizer, [problems[i]], { ...settings, seed: 7 + i });
      assertEquals(alone.map((r) => r.tokens), own.rollouts.map((r) => Array.from(r.tokens)));
      assertEquals(alone.map((r) => r.correct), own.rollouts.map((r) => r.correct));
    }
    loaded.model.dispose();

    // Through a mount: the same files under another prefix.
    const other = await Deno.makeTempDir();
    await Deno.rename(v3.path, `${other}/v-000003`);
    const mounts = [parseMount(`${root}=${other}`)];
    assertEquals(mapPath(v3.path, mounts), `${other}/v-000003`);
    assertEquals(mapPath(`${root}x/v-000003`, mounts), `${root}x/v-000003`);
    const remapped = await loadPolicyVersion(v3, backend, mounts);
    remapped.model.dispose();
    await assertRejects(() => loadPolicyVersion(v3, backend), PolicyUnavailableError, "--mount");

    // A changed file no longer matches the published hash.
    await Deno.writeTextFile(`${other}/v-000003/config.json`, "{}");
    await assertRejects(() => loadPolicyVersion(v3, backend, mounts), PolicyUnavailableError, "hash");
    await Deno.remove(other, { recursive: true });

    // Pruning keeps the versions from `keepFrom` on and drops leftovers of interrupted writes.
    await writePolicyVersion(root, 4, model, FILES);
    await writePolicyVersion(root, 5, model, FILES);
    await Deno.mkdir(`${root}/v-000005.tmp-0123abcd`);
    await pruneVersions(root, 5);
    const left = [];
    for await (const e of Deno.readDir(root)) left.push(e.name);
    assertEquals(left, ["v-000005"]);
    model.dispose();
  } finally {
    await Deno.remove(root, { recursive: true });
    backend.destroy();
  }
});

/** Starts a worker process on `runId`'s jobs, with the `rollout-worker` task's permissions. */
function spawnWorker(runId: number, leaseSeconds: number, extra: string[] = []): Deno.ChildProcess {
  return spawnTask("rollout-worker", WORKER_CLI, [
    ...["--database-url", DATABASE_URL!, "--run", String(runId), "--backend", "cpu", "--threads", "1"],
    ...["--lease-seconds", String(leaseSeconds), "--poll-ms", "20"],
    ...extra,
  ]);
}

Deno.test({
  name: "workers: SIGKILL a worker mid-job; the step completes with every response stored exactly once",
  ignore: DATABASE_URL === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { backend } = await createBackend("cpu", { threads: 1 });
    const store = await openStore({ databaseUrl: DATABASE_URL });
    const queue = await openQueue({ databaseUrl: DATABASE_URL });
    const db = postgres(DATABASE_URL!, { max: 1, onnotice: () => {} });
    const out = await Deno.makeTempDir();
    const name = `worker-kill-${crypto.randomUUID().slice(0, 8)}`;
    const runId = await store.createRun({ name, method: "oreal", config: {} });
    const children: Deno.ChildProcess[] = [];
    try {
      // A model wide enough, and responses long enough, that a job takes a while on one thread.
      const model = await tinyModel(backend, 64, 2);
      const problems = chainProblems(6);
      const K = 8;
      const pool = new RolloutPool({
        queue,
        runId,
        out,
        files: FILES,
        tokenizer,
        template: "plain",
        maxPolicyLag: 0,
        localWorkers: 0,
        worker: { databaseUrl: DATABASE_URL!, backend: "cpu", threads: 1 },
        log: () => {},
      });
      await pool.publish(0, model);
      const settings = { samplesPerPrompt: K, maxNewTokens: 160, temperature: 1, topP: 1, topK: 0 };
      await pool.enqueue(1, 0, problems, { ...settings, template: "plain" }, 11);

      // Kill a worker while it holds a lease and before it has written the job.
      let killed = null as { id: number } | null;
      for (let attempt = 0; attempt < 5 && killed === null; attempt++) {
        const victim = spawnWorker(runId, 2);
        children.push(victim);
        const pattern = `%:${victim.pid}:%`;
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const rows = await db`select id from rollout_jobs
            where run_id = ${runId} and status = 'leased' and leased_by like ${pattern}`;
          if (rows.length > 0) {
            victim.kill("SIGKILL");
            await victim.status;
            const [after] = await db`select status, leased_by from rollout_jobs where id = ${rows[0].id}`;
            if (after.status === "leased" && String(after.leased_by).includes(`:${victim.pid}:`)) {
              killed = { id: Number(rows[0].id) };
            }
            break;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      assert(killed !== null, "no worker was caught holding a lease");

      // Two more workers finish the step, the killed worker's job once its lease expires.
      children.push(spawnWorker(runId, 30), spawnWorker(runId, 30));
      const sampled = await pool.collect(1);
      assertEquals(sampled.groups.length, problems.length);
      assertEquals(sampled.groups.map((g) => g.problem.id), problems.map((p) => p.id));
      for (const g of sampled.groups) {
        assertEquals(g.rollouts.map((r) => r.sampleIndex), [...Array(K).keys()]);
      }
      assertEquals(sampled.lag, 0);

      const [counts] = await db`select count(*)::int as n,
          count(distinct (r.job_id, r.sample_index))::int as distinct_keys
        from job_rollouts r join rollout_jobs j on j.id = r.job_id where j.run_id = ${runId}`;
      assertEquals([counts.n, counts.distinct_keys], [problems.length * K, problems.length * K]);
      const [job] = await db`select status, attempts from rollout_jobs where id = ${killed!.id}`;
      assertEquals(job.status, "done");
      assert(Number(job.attempts) >= 2, `the killed job was leased ${job.attempts} times`);
      model.dispose();
    } finally {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch { /* already gone */ }
        await c.status;
        await c.stdout.cancel().catch(() => {});
        await c.stderr.cancel().catch(() => {});
      }
      await store.setRunStatus(runId, "finished");
      await queue.close();
      await store.close();
      await db.end({ timeout: 5 });
      await Deno.remove(out, { recursive: true });
      backend.destroy();
    }
  },
});
