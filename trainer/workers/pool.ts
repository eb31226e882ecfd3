/**
 * The trainer's side of the rollout workers: it publishes each policy version, enqueues a step's sampling jobs
 * (one per prompt group), spawns and watches local worker processes (`--rollout-workers N`), and waits for a
 * step's finished groups, which it turns back into the {@linkcode RolloutGroup}s the update takes.
 *
 * One step of overlap: with `maxPolicyLag` 1 the jobs of step s+1 are enqueued with the policy that sampled
 * step s, right after step s's groups are in, so workers sample while the trainer updates; the update of step
 * s+1 then uses responses one optimizer step old (lag 1, kept per rollout). With 0, a step's jobs are
 * enqueued only once the previous update is published (lag 0, no overlap).
 * @module
 */
import type { Problem, PromptTemplate } from "../../core/data/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { SaveOptions } from "../model/checkpoint.ts";
import { sequenceSeed } from "../model/decode.ts";
import type { Model } from "../model/model.ts";
import { encodePrompt, type RolloutGroup } from "../rl/rollout.ts";
import { pruneVersions, writePolicyVersion } from "./policy.ts";
import type { FinishedGroup, JobQueue, JobSettings } from "./queue.ts";

/** Attempts after which a job that keeps failing stops the run (with the workers' reason). */
export const MAX_JOB_ATTEMPTS = 5;

/** Lease length of the trainer's own worker processes, in seconds. */
export const LOCAL_LEASE_SECONDS = 20;

/** The worker CLI that {@linkcode RolloutPool} spawns. */
const WORKER_CLI = new URL("../cli/rollout_worker.ts", import.meta.url).pathname;

/** How the pool is set up. */
export interface PoolOptions {
  queue: JobQueue;
  runId: number;
  /** The run folder: versions go to `<out>/policies/`, worker logs to `<out>/workers/`. */
  out: string;
  /** The tokenizer files every published folder gets. */
  files: SaveOptions;
  tokenizer: Tokenizer;
  /** The prompt template the jobs are sampled with. */
  template: PromptTemplate;
  /** 0: each step sampled by the policy it updates; 1: one step of overlap. */
  maxPolicyLag: number;
  /** Local worker processes to spawn (0: only workers started elsewhere). */
  localWorkers: number;
  /** What local workers are started with. */
  worker: { databaseUrl: string; backend: string; threads: number; leaseSeconds?: number };
  /** Progress lines. */
  log: (line: string) => void;
  /** Wait between two looks at a step's progress, in milliseconds (default 25). */
  pollMs?: number;
}

/** A step's groups, in group order, and the policy lag of their responses. */
export interface SampledStep {
  groups: RolloutGroup[];
  /** Policy version of each group (same order). */
  versions: number[];
  /** The largest lag among the groups. */
  lag: number;
}

interface LocalWorker {
  child: Deno.ChildProcess;
  exited: boolean;
  code: number | null;
  done: Promise<void>;
}

/** The trainer's handle on its rollout workers; see the module doc. */
export class RolloutPool {
  readonly #o: PoolOptions;
  readonly #workers: LocalWorker[] = [];
  #restarts = 0;
  #closed = false;

  /** Sets the pool up; {@linkcode start} spawns the local workers. */
  constructor(options: PoolOptions) {
    this.#o = options;
  }

  /** Spawns the local worker processes. */
  async start(): Promise<void> {
    if (this.#o.localWorkers === 0) return;
    if ((await Deno.permissions.query({ name: "run" })).state !== "granted") {
      throw new Error("--rollout-workers starts worker processes: run the trainer with --allow-run");
    }
    await Deno.mkdir(`${this.#o.out}/workers`, { recursive: true });
    for (let i = 0; i < this.#o.localWorkers; i++) this.#workers.push(this.#spawn(i));
  }

  #spawn(index: number): LocalWorker {
    const w = this.#o.worker;
    const logPath = `${this.#o.out}/workers/worker-${index}.log`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "--allow-net",
        "--allow-sys",
        `--allow-write=${logPath}`,
        WORKER_CLI,
        "--run",
        String(this.#o.runId),
        "--backend",
        w.backend,
        "--threads",
        String(w.threads),
        "--lease-seconds",
        String(w.leaseSeconds ?? LOCAL_LEASE_SECONDS),
        "--poll-ms",
        "25",
        "--exit-with-stdin",
        "--log",
        logPath,
      ],
      // In the environment rather than the arguments, which other users of the machine can list.
      env: { DATABASE_URL: w.databaseUrl },
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const entry: LocalWorker = { child, exited: false, code: null, done: Promise.resolve() };
    // The worker writes its progress lines to the log itself; its errors (a crash) are appended here.
    const errorsToLog = async (stream: ReadableStream<Uint8Array>) => {
      const file = await Deno.open(logPath, { create: true, append: true });
      await stream.pipeTo(file.writable).catch(() => {});
    };
    entry.done = Promise.all([errorsToLog(child.stderr), child.status]).then(([, status]) => {
      entry.exited = true;
      entry.code = status.code;
    });
    return entry;
  }

  /** Writes `model` as version `version`, records it, and removes versions no job can still need. */
  async publish(version: number, model: Model): Promise<void> {
    const root = `${this.#o.out}/policies`;
    const { path, sha256 } = await writePolicyVersion(root, version, model, this.#o.files);
    await this.#o.queue.publishPolicy(this.#o.runId, version, path, sha256);
    await pruneVersions(root, version - this.#o.maxPolicyLag - 1);
  }

  /**
   * Enqueues step `step`'s jobs with policy version `version` (kept as they are when the step already has
   * them); `seed` seeds the step, each group's own seed is derived from it.
   */
  async enqueue(
    step: number,
    version: number,
    problems: readonly Problem[],
    settings: Omit<JobSettings, "seed">,
    seed: number,
  ): Promise<void> {
    await this.#o.queue.enqueue(
      this.#o.runId,
      step,
      version,
      problems.map((problem, i) => ({
        groupIndex: i,
        problem,
        settings: { ...settings, seed: sequenceSeed(seed, i) },
      })),
    );
  }

  /** Waits until every job of `step` is done and returns its groups. */
  async collect(step: number): Promise<SampledStep> {
    const { queue, runId } = this.#o;
    let lastNote = performance.now();
    for (;;) {
      const p = await queue.progress(runId, step);
      if (p.total === 0) throw new Error(`step ${step} has no rollout jobs`);
      if (p.done === p.total) break;
      if (p.worstFailure && p.worstFailure.attempts >= MAX_JOB_ATTEMPTS) {
        throw new Error(
          `a rollout job of step ${step} failed ${p.worstFailure.attempts} times; last error: ` +
            p.worstFailure.lastError,
        );
      }
      await this.#watchWorkers();
      if (performance.now() - lastNote > 30_000) {
        lastNote = performance.now();
        this.#o.log(`waiting for rollout workers: ${p.done}/${p.total} jobs of step ${step} done`);
      }
      await new Promise((r) => setTimeout(r, this.#o.pollMs ?? 25));
    }
    const finished = await queue.finishedGroups(runId, step);
    return {
      groups: finished.map((g) => this.#group(g)),
      versions: finished.map((g) => g.policyVersion),
      lag: Math.max(...finished.map((g) => g.policyLag)),
    };
  }

  #group(g: FinishedGroup): RolloutGroup {
    return {
      problem: g.problem,
      prompt: encodePrompt(this.#o.tokenizer, g.problem, this.#o.template),
      rollouts: g.rollouts.map((r) => ({
        problem: g.problem,
        sampleIndex: r.sampleIndex,
        tokens: Uint32Array.from(r.tokens),
        text: r.response,
        finishReason: r.finishReason,
        correct: r.correct,
        status: r.verifierStatus,
        extracted: r.extractedAnswer,
        departure: r.departure,
      })),
    };
  }

  /** Respawns a local worker that exited (it was killed, or crashed), a bounded number of times. */
  async #watchWorkers(): Promise<void> {
    for (let i = 0; i < this.#workers.length; i++) {
      const w = this.#workers[i];
      if (!w.exited) continue;
      if (this.#restarts >= 3 * this.#workers.length) {
        throw new Error(
          `local rollout workers keep exiting (last status ${w.code}); see ${this.#o.out}/workers/worker-${i}.log`,
        );
      }
      this.#restarts++;
      // Its jobs need not wait for their leases to expire: the process is gone.
      const freed = await this.#o.queue.releaseWorker(
        `${Deno.hostname()}:${w.child.pid}:`,
        `local worker exited with status ${w.code}`,
      );
      this.#o.log(
        `rollout worker ${i} exited with status ${w.code}` + (freed > 0 ? ` holding ${freed} job(s)` : "") +
          "; starting it again",
      );
      this.#workers[i] = this.#spawn(i);
    }
  }

  /**
   * Stops the local workers (closing their stdin; SIGTERM after 5 s), drops the run's open jobs and removes the
   * published versions (a resumed run publishes its current policy again).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#o.queue.dropOpenJobs(this.#o.runId).catch(() => {});
    for (const w of this.#workers) await w.child.stdin.close().catch(() => {});
    const timer = setTimeout(() => {
      for (const w of this.#workers) if (!w.exited) w.child.kill("SIGTERM");
    }, 5000);
    await Promise.all(this.#workers.map((w) => w.done));
    clearTimeout(timer);
    await Deno.remove(`${this.#o.out}/policies`, { recursive: true }).catch(() => {});
  }
}
