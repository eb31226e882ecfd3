/**
 * The job queue that rollout workers and the trainer share, in the PostgreSQL database of the rollout store
 * (tables `policy_versions`, `rollout_jobs`, `job_rollouts` of migration 0001).
 *
 * - A job is K responses to one prompt of one step, sampled with one published policy version.
 * - A worker leases the oldest open job with `FOR UPDATE SKIP LOCKED` (two workers never get the same one). The
 *   lease carries a random token and an expiry in the database's clock, which the worker renews while it works;
 *   a job whose lease has expired (its worker was killed, or lost the database) is leased again by any worker.
 * - A job's responses are written in ONE transaction with the update that marks it done, and only while the
 *   writer's lease token is still the job's: a worker whose lease was taken over writes nothing, so a job's
 *   responses are stored at most once, and (once some worker finishes it) exactly once.
 *
 * PGlite cannot serve several processes, so the queue refuses it.
 * @module
 */
import { type SQL, sql } from "drizzle-orm";
import type { Problem } from "../../core/data/mod.ts";
import type { SampleOptions } from "../rl/rollout.ts";
import {
  type Connection,
  connectMigrated,
  DEFAULT_STORE_LIMITS,
  type FinishReason,
  type Json,
  type StoreDatabase,
} from "../store/mod.ts";

/** How one job samples: `sampleAndVerify`'s settings, with the job's own seed (per-problem seeds are not used). */
export type JobSettings = Omit<SampleOptions, "promptSeeds">;

/** A job to enqueue: the prompt group's index in its step, its problem and its sampling settings. */
export interface NewJob {
  groupIndex: number;
  problem: Problem;
  settings: JobSettings;
}

/** A job a worker holds: what to sample, with which policy, and the lease that proves it holds it. */
export interface LeasedJob {
  id: number;
  runId: number;
  step: number;
  groupIndex: number;
  policyVersion: number;
  problem: Problem;
  settings: JobSettings;
  /** The folder and content hash of the policy version, as the trainer published them. */
  policy: { path: string; sha256: string };
  /** Random token of this lease; renewing and completing need it. */
  leaseToken: string;
  /** How many times the job has been leased, this lease included. */
  attempts: number;
}

/** One verified response of a job, as a worker writes it. */
export interface JobRollout {
  sampleIndex: number;
  tokens: number[];
  response: string;
  finishReason: FinishReason;
  verifierStatus: string;
  extractedAnswer: string | null;
  correct: boolean;
  /** Where the response leaves the gold chain (index of the step and of the token), when it does. */
  departure: { step: number; token: number } | null;
}

/** A finished job as the trainer consumes it, responses by sample index. */
export interface FinishedGroup {
  groupIndex: number;
  problem: Problem;
  policyVersion: number;
  /** Optimizer steps between the sampling policy and the one the step updates. */
  policyLag: number;
  rollouts: JobRollout[];
}

/** Where the jobs of one step stand. */
export interface StepProgress {
  total: number;
  done: number;
  /** The job leased most often, when it has failed at least once with a reported error. */
  worstFailure: { attempts: number; lastError: string } | null;
}

/** How to reach the queue's database. */
export interface OpenQueueOptions {
  /** A `postgres://` URL (PGlite is refused). */
  databaseUrl: string | undefined;
  /** Schema of the store's tables (default `public`). */
  schema?: string;
  /** Seconds to wait for the server (default 5). */
  connectTimeoutSeconds?: number;
}

/** The queue was asked of a database that cannot serve several processes. */
export class QueueUnavailableError extends Error {
  override name = "QueueUnavailableError";
}

/** What a worker tells the queue when it reports a failed attempt (never a stack or a path). */
const MAX_ERROR_CHARS = 500;

/** Opens the queue on the PostgreSQL server at `databaseUrl` (migrating the store's schema there). */
export async function openQueue(options: OpenQueueOptions): Promise<JobQueue> {
  if (options.databaseUrl === undefined) {
    throw new QueueUnavailableError(
      "rollout workers need a PostgreSQL server (--database-url URL or DATABASE_URL): the embedded PGlite " +
        "database serves one process only",
    );
  }
  const schemaName = options.schema ?? "public";
  const connection = await connectMigrated({
    databaseUrl: options.databaseUrl,
    dataDir: "",
    schema: schemaName,
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? 5,
  });
  return new JobQueue(connection);
}

/** Handle on the job queue; see the module doc for its guarantees. */
export class JobQueue {
  readonly #db: StoreDatabase;
  readonly #close: () => Promise<void>;
  /** The server, without its password (for messages). */
  readonly target: string;

  /** Wraps an open, migrated PostgreSQL connection; {@linkcode openQueue} is what callers use. */
  constructor(connection: Connection) {
    if (connection.driver !== "postgres") {
      throw new QueueUnavailableError("the job queue needs PostgreSQL: PGlite serves one process only");
    }
    this.#db = connection.db;
    this.#close = connection.close;
    this.target = connection.target;
  }

  /** The id of the run named `ref` (a name, or an id in digits); null when there is none. */
  async runIdOf(ref: string): Promise<number | null> {
    const asId = /^\d{1,9}$/.test(ref) ? Number(ref) : -1;
    const [row] = rowsOf(
      await this.#db.execute(
        sql`select id from runs where id = ${asId} or name = ${ref} order by (id = ${asId}) desc
        limit 1`,
      ),
    );
    return row ? Number(row.id) : null;
  }

  /**
   * Records policy version `version` of a run: its folder and content hash. Publishing a version again (a
   * resumed run redoing a step) replaces them.
   */
  async publishPolicy(runId: number, version: number, path: string, sha256: string): Promise<void> {
    await this.#db.execute(sql`insert into policy_versions (run_id, version, path, sha256)
      values (${runId}, ${version}, ${path}, ${sha256})
      on conflict (run_id, version) do update set path = excluded.path, sha256 = excluded.sha256,
        created_at = now()`);
  }

  /**
   * Enqueues the jobs of a step with `policyVersion` (which must be published). Jobs the step already has (a
   * resumed run) are kept as they are; returns the policy version the step's jobs use.
   */
  async enqueue(
    runId: number,
    step: number,
    policyVersion: number,
    jobs: readonly NewJob[],
  ): Promise<number> {
    const payload = JSON.stringify(jobs.map((j) => ({
      group_index: j.groupIndex,
      problem: problemJson(j.problem),
      settings: j.settings,
    })));
    return await this.#db.transaction(async (tx) => {
      await tx.execute(
        sql`insert into rollout_jobs (run_id, step, group_index, policy_version, problem, settings)
        select ${runId}, ${step}, x.group_index, ${policyVersion}, x.problem, x.settings
        from json_to_recordset(${payload}::json) as x(group_index integer, problem jsonb, settings jsonb)
        on conflict (run_id, step, group_index) do nothing`,
      );
      const [row] = rowsOf(
        await tx.execute(sql`select min(policy_version) as v from rollout_jobs
          where run_id = ${runId} and step = ${step}`),
      );
      return Number(row.v);
    });
  }

  /** The number of jobs a step has (0 before it is enqueued) and how many are done. */
  async progress(runId: number, step: number): Promise<StepProgress> {
    const [row] = rowsOf(
      await this.#db.execute(sql`select count(*)::int as total,
        count(*) filter (where status = 'done')::int as done
        from rollout_jobs where run_id = ${runId} and step = ${step}`),
    );
    const [worst] = rowsOf(
      await this.#db.execute(sql`select attempts, last_error from rollout_jobs
        where run_id = ${runId} and step = ${step} and status <> 'done' and last_error is not null
        order by attempts desc limit 1`),
    );
    return {
      total: Number(row.total),
      done: Number(row.done),
      worstFailure: worst ? { attempts: Number(worst.attempts), lastError: String(worst.last_error) } : null,
    };
  }

  /**
   * Leases the oldest open job (queued, or leased with an expired lease) of a running run, for `leaseSeconds`;
   * null when there is none. `runId` restricts it to one run.
   */
  async lease(workerId: string, leaseSeconds: number, runId?: number): Promise<LeasedJob | null> {
    return (await this.leaseBatch(workerId, leaseSeconds, 1, runId))[0] ?? null;
  }

  /**
   * Leases up to `maxJobs` open jobs of the step of the oldest open job, for one batched sampling call: its
   * share of them, that is the open jobs divided among this worker and the other workers of the run that were
   * active in the last minute and hold no lease now (so that two idle workers split a step rather than one
   * taking it all). Empty when nothing is open. Each job has a lease of its own.
   */
  async leaseBatch(
    workerId: string,
    leaseSeconds: number,
    maxJobs: number,
    runId?: number,
  ): Promise<LeasedJob[]> {
    const token = crypto.randomUUID();
    const onlyRun: SQL = runId === undefined ? sql`` : sql`and j.run_id = ${runId}`;
    const open = sql`j.status <> 'done' and (j.status = 'queued' or j.lease_expires_at < now())`;
    const rows = rowsOf(
      await this.#db.execute(sql`with head as (
        select j.run_id, j.step from rollout_jobs j join runs r on r.id = j.run_id
        where ${open} and r.status = 'running' ${onlyRun}
        order by j.step, j.id limit 1
      ), idle_peers as (
        select count(distinct p.leased_by)::int as n from rollout_jobs p, head
        where p.run_id = head.run_id and p.leased_by <> ${workerId}
          and coalesce(p.finished_at, p.lease_expires_at) > now() - interval '60 seconds'
          and not exists (select 1 from rollout_jobs q where q.run_id = p.run_id and q.status = 'leased'
            and q.leased_by = p.leased_by and q.lease_expires_at > now())
      ), open_jobs as (
        select count(*)::int as n from rollout_jobs j, head where j.run_id = head.run_id and j.step = head.step
          and ${open}
      ), pick as (
        select j.id from rollout_jobs j, head where j.run_id = head.run_id and j.step = head.step and ${open}
        order by j.id
        limit (select least(${maxJobs}, greatest(1, ceil(open_jobs.n::numeric / (1 + idle_peers.n))))::int
          from open_jobs, idle_peers)
        for update of j skip locked
      )
      update rollout_jobs as t set status = 'leased', lease_token = ${token}, leased_by = ${workerId},
        lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), attempts = t.attempts + 1
      from pick, policy_versions as p
      where t.id = pick.id and p.run_id = t.run_id and p.version = t.policy_version
      returning t.id, t.run_id, t.step, t.group_index, t.policy_version, t.problem, t.settings, t.attempts,
        p.path, p.sha256`),
    );
    return rows.map((r) => ({
      id: Number(r.id),
      runId: Number(r.run_id),
      step: Number(r.step),
      groupIndex: Number(r.group_index),
      policyVersion: Number(r.policy_version),
      problem: parseJson(r.problem) as unknown as Problem,
      settings: parseJson(r.settings) as unknown as JobSettings,
      policy: { path: String(r.path), sha256: String(r.sha256) },
      leaseToken: token,
      attempts: Number(r.attempts),
    })).sort((a, b) => a.groupIndex - b.groupIndex);
  }

  /** Extends a lease by `leaseSeconds` from now; false when the lease is no longer this worker's. */
  async renew(job: LeasedJob, leaseSeconds: number): Promise<boolean> {
    const rows = rowsOf(
      await this.#db.execute(sql`update rollout_jobs
        set lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
        where id = ${job.id} and lease_token = ${job.leaseToken} and status = 'leased' returning id`),
    );
    return rows.length === 1;
  }

  /**
   * Gives a job back after a failed attempt, with the reason (for the trainer's message); it is leased again
   * at once. False when the lease was no longer this worker's.
   */
  async release(job: LeasedJob, reason: string): Promise<boolean> {
    const rows = rowsOf(
      await this.#db.execute(sql`update rollout_jobs set status = 'queued', lease_token = null,
        lease_expires_at = null, last_error = ${reason.slice(0, MAX_ERROR_CHARS)}
        where id = ${job.id} and lease_token = ${job.leaseToken} and status = 'leased' returning id`),
    );
    return rows.length === 1;
  }

  /**
   * Gives back at once every job leased by workers whose id starts with `workerPrefix` (a worker process known
   * to have exited), with `reason`; returns how many. Their late writes are refused like any lost lease.
   */
  async releaseWorker(workerPrefix: string, reason: string): Promise<number> {
    const pattern = workerPrefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
    const rows = rowsOf(
      await this.#db.execute(sql`update rollout_jobs set status = 'queued', lease_token = null,
        lease_expires_at = null, last_error = ${reason.slice(0, MAX_ERROR_CHARS)}
        where status = 'leased' and leased_by like ${pattern} returning id`),
    );
    return rows.length;
  }

  /**
   * Writes a job's responses and marks it done, in one transaction, if `job`'s lease is still the job's;
   * returns false (and writes nothing) otherwise. There must be exactly one response per sample index.
   */
  async complete(job: LeasedJob, rollouts: readonly JobRollout[]): Promise<boolean> {
    return (await this.completeBatch([job], [rollouts]))[0];
  }

  /**
   * {@linkcode complete} for several jobs (`rollouts[i]` are `jobs[i]`'s) in ONE transaction of two
   * statements; returns, per job, whether it was written (its lease was still its own).
   */
  async completeBatch(
    jobs: readonly LeasedJob[],
    rollouts: readonly (readonly JobRollout[])[],
  ): Promise<boolean[]> {
    if (jobs.length !== rollouts.length) throw new RangeError("completeBatch: one list of responses per job");
    jobs.forEach((job, i) => checkJobRollouts(job, rollouts[i]));
    const leases = JSON.stringify(jobs.map((j) => ({ id: j.id, token: j.leaseToken })));
    const payload = JSON.stringify(jobs.flatMap((job, i) =>
      rollouts[i].map((r) => ({
        job_id: job.id,
        sample_index: r.sampleIndex,
        tokens: r.tokens,
        response: r.response,
        finish_reason: r.finishReason,
        verifier_status: r.verifierStatus,
        extracted_answer: r.extractedAnswer,
        correct: r.correct,
        departure_step: r.departure?.step ?? null,
        departure_token: r.departure?.token ?? null,
      }))
    ));
    const done = await this.#db.transaction(async (tx) => {
      const rows = rowsOf(
        await tx.execute(sql`update rollout_jobs as t set status = 'done', finished_at = now(),
            lease_expires_at = null
          from json_to_recordset(${leases}::json) as l(id integer, token text)
          where t.id = l.id and t.lease_token = l.token and t.status = 'leased'
          returning t.id, t.step - 1 - t.policy_version as lag`),
      );
      if (rows.length === 0) return new Set<number>();
      const lags = JSON.stringify(rows.map((r) => ({ id: Number(r.id), lag: Number(r.lag) })));
      await tx.execute(sql`insert into job_rollouts (job_id, sample_index, policy_lag, tokens, response,
          finish_reason, verifier_status, extracted_answer, correct, departure_step, departure_token)
        select x.job_id, x.sample_index, d.lag, x.tokens, x.response, x.finish_reason, x.verifier_status,
          x.extracted_answer, x.correct, x.departure_step, x.departure_token
        from json_to_recordset(${payload}::json) as x(job_id integer, sample_index integer, tokens jsonb,
          response text, finish_reason text, verifier_status text, extracted_answer text, correct boolean,
          departure_step integer, departure_token integer)
        join json_to_recordset(${lags}::json) as d(id integer, lag integer) on d.id = x.job_id`);
      return new Set(rows.map((r) => Number(r.id)));
    });
    return jobs.map((j) => done.has(j.id));
  }

  /** The finished groups of a step, by group index, with their responses by sample index. */
  async finishedGroups(runId: number, step: number): Promise<FinishedGroup[]> {
    const jobs = rowsOf(
      await this.#db.execute(
        sql`select id, group_index, policy_version, problem, step - 1 - policy_version as lag
        from rollout_jobs where run_id = ${runId} and step = ${step} and status = 'done' order by group_index`,
      ),
    );
    if (jobs.length === 0) return [];
    const rows = rowsOf(
      await this.#db.execute(sql`select r.job_id, r.sample_index, r.tokens, r.response, r.finish_reason,
          r.verifier_status, r.extracted_answer, r.correct, r.departure_step, r.departure_token
        from job_rollouts r join rollout_jobs j on j.id = r.job_id
        where j.run_id = ${runId} and j.step = ${step} and j.status = 'done'
        order by r.job_id, r.sample_index`),
    );
    const byJob = new Map<number, JobRollout[]>();
    for (const r of rows) {
      const list = byJob.get(Number(r.job_id)) ?? [];
      list.push({
        sampleIndex: Number(r.sample_index),
        tokens: parseJson(r.tokens) as number[],
        response: String(r.response),
        finishReason: r.finish_reason as FinishReason,
        verifierStatus: String(r.verifier_status),
        extractedAnswer: r.extracted_answer === null ? null : String(r.extracted_answer),
        correct: Boolean(r.correct),
        departure: r.departure_step === null
          ? null
          : { step: Number(r.departure_step), token: Number(r.departure_token) },
      });
      byJob.set(Number(r.job_id), list);
    }
    return jobs.map((j) => ({
      groupIndex: Number(j.group_index),
      problem: parseJson(j.problem) as unknown as Problem,
      policyVersion: Number(j.policy_version),
      policyLag: Number(j.lag),
      rollouts: byJob.get(Number(j.id)) ?? [],
    }));
  }

  /** Deletes the jobs of a run that are not done (a finished or failed run leaves nothing for workers). */
  async dropOpenJobs(runId: number): Promise<void> {
    await this.#db.execute(sql`delete from rollout_jobs where run_id = ${runId} and status <> 'done'`);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#close();
  }
}

/** The fields of a problem a worker needs (its worked solution stays with the trainer). */
function problemJson(p: Problem): { [key: string]: Json } {
  const out: { [key: string]: Json } = { id: p.id, source: p.source, prompt: p.prompt, gold: p.gold };
  if (p.chain) out.chain = p.chain;
  if (p.level !== undefined) out.level = p.level;
  if (p.form) out.form = p.form;
  return out;
}

function checkJobRollouts(job: LeasedJob, rollouts: readonly JobRollout[]): void {
  const k = job.settings.samplesPerPrompt;
  const seen = new Set<number>();
  for (const r of rollouts) {
    if (
      !Number.isInteger(r.sampleIndex) || r.sampleIndex < 0 || r.sampleIndex >= k || seen.has(r.sampleIndex)
    ) {
      throw new RangeError(`job ${job.id}: sample index ${r.sampleIndex} is outside 0..${k - 1} or repeated`);
    }
    seen.add(r.sampleIndex);
    if (r.response.length > DEFAULT_STORE_LIMITS.maxResponseChars) {
      throw new RangeError(`job ${job.id}: response ${r.sampleIndex} is over the store's length limit`);
    }
  }
  if (seen.size !== k) throw new RangeError(`job ${job.id}: ${seen.size} responses for ${k} samples`);
}

/** The rows of a raw `execute` result (postgres.js returns an array). */
function rowsOf(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows;
}

/** A jsonb value as the driver returns it (parsed, or text when passed through a raw query). */
function parseJson(value: unknown): Json {
  return typeof value === "string" ? JSON.parse(value) : value as Json;
}
