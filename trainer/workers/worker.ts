/**
 * The loop of a rollout worker: lease a batch of jobs of one step, load their policy version (checked against
 * its content hash, kept loaded while the next jobs use the same version), sample K responses per job with the
 * KV cache in one batched call, verify them, and write each job's responses with its completion; renew the
 * leases while working. A failed attempt gives the jobs back with its reason; a job whose lease was lost to
 * another worker is not written.
 * @module
 */
import type { Backend } from "../gpu/backend.ts";
import { type BatchVerifier, localVerifier, sampleAndVerify } from "../rl/rollout.ts";
import { type LoadedPolicy, loadPolicyVersion, type PathMount } from "./policy.ts";
import type { JobQueue, JobRollout, LeasedJob } from "./queue.ts";

/** Settings of {@linkcode runWorker}. */
export interface WorkerOptions {
  queue: JobQueue;
  backend: Backend;
  /** Names this worker in the queue (`leased_by`). */
  workerId: string;
  /** Lease length in seconds; renewed every third of it. */
  leaseSeconds: number;
  /** Wait between two empty polls, in milliseconds. */
  pollMs: number;
  /** Most jobs sampled in one batch (default 1). */
  maxJobs?: number;
  /** Only this run's jobs (default: every running run's). */
  runId?: number;
  /** Verifies the responses (default `core/verify` in this process). */
  verifier?: BatchVerifier;
  /** Path prefixes of the trainer's machine and where they are mounted here. */
  mounts?: readonly PathMount[];
  /** Stops the loop (between jobs) when aborted. */
  signal?: AbortSignal;
  /** Return after this many seconds without a job (default: never). */
  idleExitSeconds?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a worker did. */
export interface WorkerTotals {
  jobs: number;
  rollouts: number;
  /** Jobs whose lease was lost before their responses were written (nothing written). */
  lostLeases: number;
  failures: number;
}

/**
 * Samples and verifies the responses of jobs of one step (same policy version and settings but their seeds) in
 * one batched call, each job with its own seed: the result does not depend on which jobs were batched together.
 */
export async function sampleJobs(
  jobs: readonly LeasedJob[],
  policy: LoadedPolicy,
  verifier: BatchVerifier,
): Promise<JobRollout[][]> {
  const groups = await sampleAndVerify(
    policy.model,
    policy.tokenizer.tokenizer,
    jobs.map((j) => j.problem),
    { ...jobs[0].settings, promptSeeds: jobs.map((j) => j.settings.seed) },
    verifier,
  );
  return groups.map((g) =>
    g.rollouts.map((r) => ({
      sampleIndex: r.sampleIndex,
      tokens: Array.from(r.tokens),
      response: r.text,
      finishReason: r.finishReason,
      verifierStatus: r.status,
      extractedAnswer: r.extracted,
      correct: r.correct,
      departure: r.departure,
    }))
  );
}

/** Runs the worker loop until `signal` aborts (or it has been idle for `idleExitSeconds`). */
export async function runWorker(options: WorkerOptions): Promise<WorkerTotals> {
  const { queue, leaseSeconds } = options;
  const log = options.log ?? (() => {});
  const verifier = options.verifier ?? localVerifier;
  const totals: WorkerTotals = { jobs: 0, rollouts: 0, lostLeases: 0, failures: 0 };
  let loaded = null as { key: string; policy: LoadedPolicy } | null;
  let idleSince = performance.now();
  try {
    while (!options.signal?.aborted) {
      let jobs: LeasedJob[];
      try {
        jobs = await queue.leaseBatch(options.workerId, leaseSeconds, options.maxJobs ?? 1, options.runId);
      } catch (e) {
        // The database is unreachable for now: wait and ask again rather than exit.
        log(`cannot lease a job: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(Math.max(options.pollMs, 2000), options.signal);
        continue;
      }
      if (jobs.length === 0) {
        const idle = (performance.now() - idleSince) / 1000;
        if (options.idleExitSeconds !== undefined && idle >= options.idleExitSeconds) break;
        await sleep(options.pollMs, options.signal);
        continue;
      }
      const lost = new Set<number>();
      const renewal = setInterval(() => {
        for (const job of jobs) {
          queue.renew(job, leaseSeconds).then((ok) => ok || lost.add(job.id), () => {});
        }
      }, (leaseSeconds * 1000) / 3);
      const first = jobs[0];
      try {
        const key = `${first.runId}:${first.policyVersion}:${first.policy.sha256}`;
        if (loaded?.key !== key) {
          loaded?.policy.model.dispose();
          loaded = null;
          loaded = { key, policy: await loadPolicyVersion(first.policy, options.backend, options.mounts) };
          log(`loaded policy version ${first.policyVersion} of run ${first.runId}`);
        }
        const t0 = performance.now();
        const sampled = await sampleJobs(jobs, loaded.policy, verifier);
        const t1 = performance.now();
        const live = jobs.map((j, i) => ({ job: j, rollouts: sampled[i] })).filter((x) =>
          !lost.has(x.job.id)
        );
        const written = await queue.completeBatch(live.map((x) => x.job), live.map((x) => x.rollouts));
        const ok = live.filter((_, i) => written[i]);
        totals.jobs += ok.length;
        totals.rollouts += ok.reduce((n, x) => n + x.rollouts.length, 0);
        totals.lostLeases += jobs.length - ok.length;
        log(
          `step ${first.step}: ${ok.length} job(s) sampled in ${
            ((t1 - t0) / 1000).toFixed(2)
          } s, written in ` +
            `${((performance.now() - t1) / 1000).toFixed(2)} s` +
            (ok.length < jobs.length ? `; ${jobs.length - ok.length} lost their lease, not written` : ""),
        );
      } catch (e) {
        totals.failures++;
        const reason = e instanceof Error ? e.message : String(e);
        log(`jobs of step ${first.step} (${jobs.length}) failed: ${reason}`);
        for (const job of jobs) await queue.release(job, reason).catch(() => {});
        await sleep(options.pollMs, options.signal);
      } finally {
        clearInterval(renewal);
      }
      idleSince = performance.now();
    }
  } finally {
    loaded?.policy.model.dispose();
  }
  return totals;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
