/**
 * The loop of a rollout worker: lease a job, load its policy version (checked against its content hash, kept
 * loaded while the next jobs use the same version), sample K responses with the KV cache, verify them, and
 * write them with the job's completion; renew the lease while working. A failed attempt gives the job back
 * with its reason; a lease lost to another worker writes nothing.
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

/** Samples and verifies the responses of one job with `policy`. */
export async function sampleJob(
  job: LeasedJob,
  policy: LoadedPolicy,
  verifier: BatchVerifier,
): Promise<JobRollout[]> {
  const [group] = await sampleAndVerify(
    policy.model,
    policy.tokenizer.tokenizer,
    [job.problem],
    job.settings,
    verifier,
  );
  return group.rollouts.map((r) => ({
    sampleIndex: r.sampleIndex,
    tokens: Array.from(r.tokens),
    response: r.text,
    finishReason: r.finishReason,
    verifierStatus: r.status,
    extractedAnswer: r.extracted,
    correct: r.correct,
    departure: r.departure,
  }));
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
      let job: LeasedJob | null;
      try {
        job = await queue.lease(options.workerId, leaseSeconds, options.runId);
      } catch (e) {
        // The database is unreachable for now: wait and ask again rather than exit.
        log(`cannot lease a job: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(Math.max(options.pollMs, 2000), options.signal);
        continue;
      }
      if (job === null) {
        const idle = (performance.now() - idleSince) / 1000;
        if (options.idleExitSeconds !== undefined && idle >= options.idleExitSeconds) break;
        await sleep(options.pollMs, options.signal);
        continue;
      }
      let lost = false;
      const renewal = setInterval(() => {
        queue.renew(job, leaseSeconds).then((ok) => lost ||= !ok, () => {});
      }, (leaseSeconds * 1000) / 3);
      try {
        const key = `${job.runId}:${job.policyVersion}:${job.policy.sha256}`;
        if (loaded?.key !== key) {
          loaded?.policy.model.dispose();
          loaded = null;
          loaded = { key, policy: await loadPolicyVersion(job.policy, options.backend, options.mounts) };
          log(`loaded policy version ${job.policyVersion} of run ${job.runId}`);
        }
        const rollouts = await sampleJob(job, loaded.policy, verifier);
        if (lost || !(await queue.complete(job, rollouts))) {
          totals.lostLeases++;
          log(`job ${job.id}: the lease was lost before the responses were written; nothing written`);
        } else {
          totals.jobs++;
          totals.rollouts += rollouts.length;
        }
      } catch (e) {
        totals.failures++;
        const reason = e instanceof Error ? e.message : String(e);
        log(`job ${job.id} (step ${job.step}, group ${job.groupIndex}) failed: ${reason}`);
        await queue.release(job, reason).catch(() => {});
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
