/**
 * The rows the trainer hands to the store and the records it reads back.
 * @module
 */
import type { FinishReason, Json, RunStatus } from "./schema.ts";

/** A new run, as passed to `Store.createRun`. */
export interface NewRun {
  /** Unique, human-chosen name (e.g. `oreal-tiny-seed1`); a second run with the same name is an error. */
  name: string;
  /** Training method, e.g. `oreal`, `grpo`, `rft`, `sft`. */
  method: string;
  /** The full configuration of the run (stored as jsonb). */
  config: { [key: string]: Json };
  /** Source revision (e.g. a git commit) when known. */
  codeRevision?: string | null;
}

/** A stored run. */
export interface RunRecord {
  /** Database id, the `--run` value of the CLIs. */
  id: number;
  /** Unique name. */
  name: string;
  /** When the run was created. */
  createdAt: Date;
  /** Training method. */
  method: string;
  /** Full configuration. */
  config: { [key: string]: Json };
  /** Where the run stands. */
  status: RunStatus;
  /** Source revision when known. */
  codeRevision: string | null;
}

/** A run with its progress, as listed by `Store.listRuns`. */
export interface RunListing extends Omit<RunRecord, "config"> {
  /** Number of stored steps. */
  steps: number;
  /** Highest stored step, or null before the first one. */
  lastStep: number | null;
  /** `metrics.passRate` of the highest step when it is a number, else null. */
  lastPassRate: number | null;
}

/** A problem, as passed to `Store.upsertProblems`; `(source, id)` names it. */
export interface ProblemRow {
  /** Data set it comes from, e.g. `gsm8k`, `synthetic`. */
  source: string;
  /** Id within the source. */
  id: string;
  /** The prompt text the policy was given (the SFT export writes it as `prompt`). */
  prompt: string;
  /** Gold answer. */
  gold: string;
  /** Split (`train`, `test`, ...) when known. */
  split?: string | null;
  /** Difficulty level when known. */
  level?: string | null;
}

/** One sampled response with its verdict; `(problemSource, problemId, sampleIndex)` is unique in a step. */
export interface RolloutRow {
  /** Source of the problem (see {@linkcode ProblemRow}); the problem must be stored first. */
  problemSource: string;
  /** Id of the problem within its source. */
  problemId: string;
  /** Index of this sample among the samples of the problem in this step (0, 1, ...). */
  sampleIndex: number;
  /** Version (optimizer step) of the policy weights that sampled it. */
  policyVersion: number;
  /** The response text. */
  response: string;
  /** Number of generated tokens. */
  tokenCount: number;
  /** `stop` (stop token) or `length` (budget exhausted). */
  finishReason: FinishReason;
  /** The verifier's status word (e.g. `correct`, `wrong`, `no_answer`, `timeout`). */
  verifierStatus: string;
  /** The answer the verifier extracted, or null when none was found. */
  extractedAnswer: string | null;
  /** Whether the verifier judged the response correct (what `--correct` / `--wrong` and the export use). */
  correct: boolean;
  /** Reward given to the response; must be finite. */
  reward: number;
  /** Advantage used in the update, or null when it had none; must be finite when given. */
  advantage: number | null;
  /** Whether the rollout was kept for the policy update. */
  kept: boolean;
}

/** A stored rollout: the row plus the run and step it belongs to. */
export interface StoredRollout extends RolloutRow {
  /** Run id. */
  runId: number;
  /** Training step. */
  step: number;
}

/**
 * Metrics of one step (stored as jsonb). The named fields are the ones the CLIs read; any other JSON value may be
 * added. Every number must be finite.
 */
export interface StoredStepMetrics {
  /** Share of rollouts judged correct (0..1); `deno task runs` shows the last one. */
  passRate?: number;
  /** Number of pairs (or samples) kept for the update. */
  keptPairs?: number;
  /** Loss by part, e.g. `{ positive: 0.1, negative: 0.2, kl: 0.01 }`. */
  losses?: { [part: string]: number };
  /** KL divergence to the reference policy. */
  kl?: number;
  /** Mean token entropy. */
  entropy?: number;
  /** Gradient norms, e.g. `{ total: 1.3 }`. */
  gradNorms?: { [part: string]: number };
  /** Learning rate. */
  lr?: number;
  /** Generated tokens per second. */
  tokensPerSecond?: number;
  /** Milliseconds by phase, e.g. `{ sample: 1200, verify: 40, update: 900 }`. */
  timesMs?: { [phase: string]: number };
  /** Any further JSON value. */
  [key: string]: Json | undefined;
}

/** Everything of one training step, written by `Store.writeStep` in one transaction. */
export interface WriteStepInput {
  /** Run id. */
  runId: number;
  /** Step number (>= 0); not below the highest step already stored for the run. */
  step: number;
  /** All rollouts of the step. */
  rollouts: readonly RolloutRow[];
  /** The step's metrics. */
  metrics: StoredStepMetrics;
}

/** What `Store.writeStep` did. */
export interface WriteStepResult {
  /** False when the step row was already stored (a retry): nothing was overwritten. */
  stepInserted: boolean;
  /** Rollouts added now; rollouts already stored under the same key were left as they were. */
  rolloutsInserted: number;
}

/** A checkpoint, as passed to `Store.recordCheckpoint`. */
export interface CheckpointInput {
  /** Run id. */
  runId: number;
  /** Step the weights are from. */
  step: number;
  /** Where the checkpoint was written. */
  path: string;
  /** Hex SHA-256 of the checkpoint file (64 characters). */
  sha256: string;
  /** Evaluation figures measured on it (e.g. `{ gsm8k: { accuracy: 0.41 } }`). */
  evaluation: { [key: string]: Json };
}

/** A stored checkpoint. */
export interface CheckpointRecord extends CheckpointInput {
  /** When it was recorded. */
  createdAt: Date;
}

/** One point of a run's metrics series. */
export interface MetricsPoint {
  /** Step number. */
  step: number;
  /** Metrics as stored. */
  metrics: StoredStepMetrics;
  /** When the step was written. */
  createdAt: Date;
}

/** Which rollouts to read. */
export interface RolloutFilter {
  /** Only this step. */
  step?: number;
  /** Only correct (`true`) or only wrong (`false`) ones. */
  correct?: boolean;
  /** Only kept (`true`) or only dropped (`false`) ones. */
  kept?: boolean;
  /** At most this many (in key order: step, source, problem id, sample index). */
  limit?: number;
}

/** One example of the SFT / RFT export: a correct, complete response and the prompt it answers. */
export interface SftExample {
  /** Prompt the policy was given. */
  prompt: string;
  /** The correct response. */
  response: string;
  /** Problem source. */
  problemSource: string;
  /** Problem id. */
  problemId: string;
  /** Step it was sampled at. */
  step: number;
  /** Sample index within the step. */
  sampleIndex: number;
}
