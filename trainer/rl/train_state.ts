/**
 * What the parts of a training run share: the state saved with each step checkpoint, the run's setup (backend,
 * tokenizer, problems, store), the models it holds, and the helpers that save checkpoints, evaluate and convert a
 * step's metrics for the store.
 *
 * @module
 */

import type { Problem } from "../../core/data/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { Backend } from "../gpu/backend.ts";
import { checkpointFiles, saveCheckpoint, type SaveOptions } from "../model/checkpoint.ts";
import type { Decoder } from "../model/decode.ts";
import type { Model } from "../model/model.ts";
import type { Json, RolloutRow, RunStore, StoredStepMetrics } from "../store/mod.ts";
import type { StepCheckpoints } from "./checkpoints.ts";
import type { TrainConfig } from "./config.ts";
import { evaluate, type Evaluation } from "./evaluate.ts";
import type { EvalPoint, PhaseClock, PhaseTime, StepMetrics } from "./metrics.ts";
import type { Reporter } from "./reporter.ts";
import type { RmMonitorState } from "./rm_monitor.ts";
import type { RmReplayState } from "./rm_replay.ts";
import type { RmBiasState } from "./token_rm.ts";

/** The state saved with each checkpoint besides the models. */
export interface RunState {
  step: number;
  rng: [number, number, number, number];
  clock: Record<string, PhaseTime>;
  wallSeconds: number;
  evals: EvalPoint[];
  /** The SFT model's and the latest evaluation's per-problem greedy verdicts (for the paired gain interval). */
  sftGreedy: number[];
  lastGreedy: number[];
  best: { step: number; pass1: number };
  /** The token RM's held-out score window and replay buffer ("oreal"). */
  rm: { monitor: RmMonitorState; replay: RmReplayState; bias: RmBiasState | null } | null;
  sampledResponses: number;
  sftTokens: number;
  /** The step of this checkpoint as it goes to the store (replayed on resume). */
  pending: { rollouts: RolloutRow[]; metrics: StepMetrics } | null;
}

/** What a run works with, set up before it starts or resumes. */
export interface RunSetup {
  config: TrainConfig;
  reporter: Reporter;
  backend: Backend;
  tokenizer: Tokenizer;
  /** The tokenizer files and chat template that every saved folder gets. */
  hfFiles: SaveOptions;
  sets: { train: Problem[]; test: Problem[] };
  store: RunStore;
  /**
   * The run's id in the store. With a store that is still being created (a new PGlite folder), it settles during
   * the supervised warm start, which does not need it.
   */
  runId: Promise<number>;
  clock: PhaseClock;
  /** What decodes for a policy: the policy itself, or replica threads of it (`--decode-threads`). */
  decoder: (policy: Model) => Decoder;
  /** Evaluates a policy on the test split after RL step `step` (0: the SFT model). */
  evaluate: (policy: Model, step: number) => Promise<Evaluation>;
}

/** The models a run holds: the policy, its frozen reference (the SFT model) and the token RM ("oreal" only). */
export interface RunModels {
  policy: Model;
  reference: Model;
  rewardModel: Model | null;
}

/** A started or resumed run: its models, the state of its last committed step and its step lines so far. */
export interface RunSession extends RunModels {
  state: RunState;
  /** The lines of `metrics.jsonl` up to the committed step. */
  lines: StepMetrics[];
  /** The step checkpoints this process commits. */
  checkpoints: StepCheckpoints;
}

/** Frees the models that are set (a run's models on success and on error alike). */
export function disposeModels(models: Partial<RunModels>): void {
  models.policy?.dispose();
  models.reference?.dispose();
  models.rewardModel?.dispose();
}

/**
 * The evaluator of a run, timed as the "eval" phase. The k samples per problem (mean@k, pass@k) cost k greedy
 * evaluations: they are taken for the SFT model (step 0) and the final one; the evaluations between are greedy
 * only.
 */
export function runEvaluator(
  config: TrainConfig,
  tokenizer: Tokenizer,
  test: readonly Problem[],
  clock: PhaseClock,
  decoder: (policy: Model) => Decoder,
): (policy: Model, step: number) => Promise<Evaluation> {
  const options = {
    k: config.passK,
    maxNewTokens: config.maxNewTokens,
    temperature: config.temperature,
    topP: config.topP,
    template: config.template,
  };
  return (policy, step) =>
    clock.time(
      "eval",
      () =>
        evaluate(decoder(policy), tokenizer, test, {
          ...options,
          seed: config.seed * 1000 + step,
          skipPassK: step !== 0 && step !== config.steps,
        }),
      (v) => v.tokens,
    );
}

/** The point of the evaluation after step `step` that the run state and the curve keep. */
export function evalPoint(step: number, e: Evaluation): EvalPoint {
  return {
    step,
    pass1: e.metrics.pass1,
    passk: e.metrics.passK,
    meank: Number.isFinite(e.metrics.meanK) ? e.metrics.meanK : null,
    pass1Ci95: e.metrics.pass1Ci95,
    meankCi95: e.metrics.meanKCi95,
    faithfulness: e.metrics.faithfulness,
  };
}

/** A step's metrics as the store keeps them. */
export function storeMetrics(m: StepMetrics): StoredStepMetrics {
  const out: StoredStepMetrics = {
    passRate: m.passRate,
    keptPairs: m.pairsKept,
    losses: { total: m.loss, positive: m.lossPositive, negative: m.lossNegative, kl: m.lossKl },
    kl: m.kl,
    gradNorms: { total: m.gradNorm },
    lr: m.lr,
    tokensPerSecond: m.tokensPerSecond.sampling,
    timesMs: { step: 1000 * m.stepSeconds },
    meanReward: m.meanReward,
    truncatedRate: m.truncatedRate,
    updateSequences: m.updateSequences,
    policyUpdated: m.policyUpdated,
  };
  if (Number.isFinite(m.entropy)) out.entropy = m.entropy;
  if (m.policyLag !== undefined) out.policyLag = m.policyLag;
  if (m.rmLoss !== null) out.losses!.rm = m.rmLoss;
  if (m.eval) {
    // Evaluations between the first and the last are greedy only: their sampled figures are NaN, stored as null.
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    out.eval = { ...m.eval, passK: finite(m.eval.passK), meanK: finite(m.eval.meanK) } as Json;
  }
  return out;
}

/** The folder of the best policy, kept as of step `step`. */
export function bestPath(out: string, step: number): string {
  return `${out}/best/step-${String(step).padStart(6, "0")}`;
}

/** Saves the best policy so far under `best/step-N`, removing older best folders. */
export async function saveBest(out: string, policy: Model, files: SaveOptions, step: number): Promise<void> {
  const dir = bestPath(out, step);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await saveCheckpoint(dir, policy, files);
}

/** Commits the step checkpoint of `session` (policy and RM with optimizer state, and the run state). */
export async function commitStep(session: RunSession, files: SaveOptions): Promise<void> {
  const { state, checkpoints } = session;
  await checkpoints.commit(state.step, async (folder) => {
    const models = [["policy", session.policy], ["rm", session.rewardModel]] as const;
    for (const [name, model] of models) {
      if (!model) continue;
      for await (const f of checkpointFiles(model, { ...files, optimizer: true })) {
        folder.put(`${name}/${f.name}`, f.data);
      }
    }
    folder.put("state.json", JSON.stringify(state));
  });
  // Best folders other than the one the committed state names are from an interrupted step: drop them.
  const out = checkpoints.out;
  const keep = bestPath(out, state.best.step);
  for (const e of Deno.readDirSync(`${out}/best`)) {
    if (`${out}/best/${e.name}` !== keep) Deno.removeSync(`${out}/best/${e.name}`, { recursive: true });
  }
}
