/**
 * The update of one RL step (docs/OREAL.md steps 3-7), after sampling and verification: choose the update samples
 * of the method, score them with the policy, the frozen reference and the token reward model, measure the RM
 * on this fresh batch before it trains on it, update the token RM, and (after the RM warm-up) the policy with
 * the per-token coefficients of core/oreal.
 *
 * @module
 */

import {
  cosineSchedule,
  defaultMethodConfig,
  type Method,
  oracleWeights,
  type PolicySample,
  rewardModelLoss,
  tokenCoefficients,
  tokenWeights,
  updateSamples,
} from "../../core/oreal/mod.ts";
import type { Rng } from "../../core/random/mod.ts";
import { rocAuc } from "../../core/stats/mod.ts";
import type { Model } from "../model/model.ts";
import { packBatch, packResponses, type Sequence, unpackResponses } from "./batch.ts";
import type { PhaseClock, StepMetrics } from "./metrics.ts";
import type { RmMonitor } from "./rm_monitor.ts";
import type { LabelledSequence, RmReplay } from "./rm_replay.ts";
import type { RolloutGroup } from "./rollout.ts";
import type { TokenRm } from "./token_rm.ts";

/** Which responses the token RM trains on each step. */
export type RmSamples = "pairs" | "all";

/**
 * How much OREAL trusts the token RM's weights: always (`off`, the release); fully once its held-out AUC reaches a
 * threshold and not at all before (`auc`); or in proportion to its AUC between chance and the threshold
 * (`blend`).
 */
export type OmegaGate = "off" | "auc" | "blend";

/**
 * The trust g in [0, 1] put in the RM's weights, omega = 1 - g + g omega_RM: 1 for "off"; for "auc" 1 once the
 * pooled held-out AUC reaches `threshold`, else 0; for "blend" (AUC - 0.5) / (threshold - 0.5) clamped to [0, 1].
 * An unknown AUC (no batch with both verdicts yet) gives 0 except for "off".
 */
export function omegaTrust(gate: OmegaGate, auc: number | null, threshold: number): number {
  if (gate === "off") return 1;
  if (auc === null) return 0;
  if (gate === "auc") return auc >= threshold ? 1 : 0;
  return Math.min(1, Math.max(0, (auc - 0.5) / Math.max(1e-9, threshold - 0.5)));
}

/** Settings of the update. */
export interface UpdateOptions {
  method: Method;
  /** 1-based RL step. */
  step: number;
  totalSteps: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  maxGradNorm: number;
  kl: number;
  /** Token RM: peak learning rate, its linear warm-up in steps, and the steps in which only the RM trains. */
  rmLr: number;
  rmLrWarmup: number;
  rmWarmupSteps: number;
  /** The RM trains on the update pairs (the release) or on every response of the step's mixed prompts. */
  rmSamples: RmSamples;
  /** How the RM's pooled held-out AUC decides the trust in its weights; see {@linkcode omegaTrust}. */
  omegaGate: OmegaGate;
  omegaGateAuc: number;
  padId: number;
}

/** Token RM diagnostics of a step (null where the method has no RM or the batch lacks a class). */
export type RmDiagnostics = Pick<
  StepMetrics,
  | "rmAuc"
  | "rmAucPooled"
  | "omegaTrust"
  | "omegaPositive"
  | "omegaNegative"
  | "omegaNegBefore"
  | "omegaNegAfter"
>;

/** What the update did: the update's fields of {@linkcode StepMetrics}, and which responses it kept. */
export interface UpdateResult extends
  Pick<
    StepMetrics,
    | "updateSequences"
    | "loss"
    | "lossPositive"
    | "lossNegative"
    | "lossKl"
    | "rmLoss"
    | "kl"
    | "entropy"
    | "gradNorm"
    | "lr"
    | "policyUpdated"
  >,
  RmDiagnostics {
  /** Advantage of each kept response, keyed `group:sample`. */
  kept: Map<string, number>;
}

/** The three models of a run: the policy, its frozen reference, and the token RM ("oreal" only). */
export interface Models {
  policy: Model;
  reference: Model;
  rewardModel: TokenRm | null;
}

/** The RM's memory across steps: its held-out scores (for the gate) and the replayed batches. */
export interface RmMemory {
  monitor: RmMonitor;
  replay: RmReplay;
}

const mean = (xs: readonly number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;

/**
 * The RM's omega on the update batch and its diagnostics: mean omega+ over correct tokens, mean omega- over
 * wrong tokens, and mean omega- before vs from the first wrong token of wrong responses with a known one.
 */
function omegaDiagnostics(
  samples: readonly { correct: boolean; departure: number | null }[],
  scores: readonly Float32Array[],
) {
  const omega: Float32Array[] = [];
  const pos: number[] = [], neg: number[] = [], before: number[] = [], after: number[] = [];
  samples.forEach((s, i) => {
    const w = tokenWeights(scores[i]);
    const o = s.correct ? w.positive : w.negative;
    omega.push(o);
    for (let t = 0; t < o.length; t++) {
      (s.correct ? pos : neg).push(o[t]);
      if (!s.correct && s.departure !== null) (t < s.departure ? before : after).push(o[t]);
    }
  });
  return {
    omega,
    omegaPositive: mean(pos),
    omegaNegative: mean(neg),
    omegaNegBefore: mean(before),
    omegaNegAfter: mean(after),
  };
}

/** Mean token score of each response: the sequence score the RM's BCE is trained on. */
const sequenceScores = (scores: readonly Float32Array[]) =>
  scores.map((w) => (w.length ? w.reduce((a, b) => a + b, 0) / w.length : 0));

/**
 * Runs the update of one step; `rng` draws the OREAL pairs. Times scoring and update phases on `clock`.
 * `memory` carries the token RM's held-out scores and replay buffer across steps ("oreal" only).
 */
export async function updateStep(
  models: Models,
  groups: readonly RolloutGroup[],
  rng: Rng,
  options: UpdateOptions,
  clock: PhaseClock,
  memory: RmMemory | null = null,
): Promise<UpdateResult> {
  const outcomes = groups.map((g) => ({ correct: g.rollouts.map((r) => r.correct) }));
  const { samples } = updateSamples(options.method, outcomes, rng);
  const kept = new Map(samples.map((s) => [`${s.group}:${s.index}`, s.advantage] as const));
  const lr = cosineSchedule(options.step - 1, {
    warmup: Math.min(options.warmupSteps, options.totalSteps),
    total: options.totalSteps,
    lr: options.lr,
    minLr: options.minLr,
  });
  const result: UpdateResult = {
    kept,
    updateSequences: samples.length,
    loss: 0,
    lossPositive: 0,
    lossNegative: 0,
    lossKl: 0,
    rmLoss: null,
    kl: 0,
    entropy: NaN,
    gradNorm: 0,
    lr,
    policyUpdated: false,
    rmAuc: null,
    rmAucPooled: null,
    omegaTrust: null,
    omegaPositive: null,
    omegaNegative: null,
    omegaNegBefore: null,
    omegaNegAfter: null,
  };
  if (samples.length === 0) return result;
  const rollouts = samples.map((s) => groups[s.group].rollouts[s.index]);
  const seqs: Sequence[] = samples.map((s, i) => ({
    prompt: groups[s.group].prompt,
    response: rollouts[i].tokens,
  }));
  const batch = packBatch(seqs, options.padId);
  const tokens = seqs.reduce((n, s) => n + s.response.length, 0);
  const useRm = options.method === "oreal" && models.rewardModel !== null;
  const scored = await clock.time("scoring", async () => {
    const policy = await models.policy.logprobs(batch);
    const ref = await models.reference.logprobs(batch);
    const rm = useRm ? await models.rewardModel!.scores(batch, seqs) : null;
    return { policy, ref, rm };
  }, () => tokens * (useRm ? 3 : 2));
  const lp = unpackResponses(scored.policy.logprobs, seqs, batch.seqLen);
  const ent = unpackResponses(scored.policy.entropies, seqs, batch.seqLen);
  const ref = unpackResponses(scored.ref.logprobs, seqs, batch.seqLen);
  const rmScores = scored.rm;
  let entropy = 0, kl = 0;
  for (let i = 0; i < seqs.length; i++) {
    for (let t = 0; t < lp[i].length; t++) {
      entropy += ent[i][t];
      const d = ref[i][t] - lp[i][t];
      kl += Math.exp(d) - d - 1;
    }
  }
  result.entropy = entropy / tokens;
  result.kl = kl / tokens;
  const departures = samples.map((s, i) => ({
    correct: s.correct,
    departure: rollouts[i].departure?.token ?? null,
  }));
  let omega: Float32Array[] | null = null;
  if (rmScores) {
    // The batch is fresh: the RM has not trained on it yet, so these scores measure it held-out.
    const seq = sequenceScores(rmScores);
    const step = {
      positive: seq.filter((_, i) => samples[i].correct),
      negative: seq.filter((_, i) => !samples[i].correct),
    };
    result.rmAuc = rocAuc(step.positive, step.negative);
    memory?.monitor.record(step);
    result.rmAucPooled = memory?.monitor.pooledAuc() ?? result.rmAuc;
    const diag = omegaDiagnostics(departures, rmScores);
    Object.assign(result, {
      omegaPositive: diag.omegaPositive,
      omegaNegative: diag.omegaNegative,
      omegaNegBefore: diag.omegaNegBefore,
      omegaNegAfter: diag.omegaNegAfter,
    });
    const g = omegaTrust(options.omegaGate, result.rmAucPooled, options.omegaGateAuc);
    result.omegaTrust = g;
    omega = diag.omega.map((o) => o.map((v) => 1 - g + g * v));
  } else if (options.method === "oreal-oracle") {
    omega = departures.map((d, i) => oracleWeights(lp[i].length, d.correct, d.departure));
  }
  const policySamples: PolicySample[] = samples.map((s, i) => ({
    correct: s.correct,
    advantage: s.advantage,
    logprobs: lp[i],
    refLogprobs: ref[i],
    ...(omega ? { omega: omega[i] } : {}),
  }));
  const coeffs = tokenCoefficients(policySamples, {
    ...defaultMethodConfig(options.method),
    klCoef: options.kl,
  });
  result.loss = coeffs.loss;
  result.lossPositive = coeffs.parts.positive;
  result.lossNegative = coeffs.parts.negative;
  result.lossKl = coeffs.parts.kl;
  await clock.time("update", async () => {
    if (useRm) {
      const current = options.rmSamples === "pairs"
        ? seqs.map((seq, i) => ({ seq, correct: samples[i].correct }))
        : mixedResponses(groups);
      result.rmLoss = await updateRewardModel(models.rewardModel!, current, memory?.replay ?? null, options, {
        batch,
        scores: options.rmSamples === "pairs" ? rmScores : null,
      });
    }
    const frozen = options.method === "oreal" && options.step <= options.rmWarmupSteps;
    if (!frozen) {
      models.policy.zeroGrad();
      await models.policy.forwardBackward(batch, packResponses(coeffs.dLogp, seqs, batch.seqLen));
      const { gradNorm } = await models.policy.step({
        lr,
        weightDecay: options.weightDecay,
        maxGradNorm: options.maxGradNorm,
      });
      result.gradNorm = gradNorm;
      result.policyUpdated = true;
    }
  }, () => tokens * ((useRm ? 1 : 0) + 1));
  return result;
}

/** Every response of the groups whose verdicts are mixed, with its verdict. */
function mixedResponses(groups: readonly RolloutGroup[]): LabelledSequence[] {
  return groups.flatMap((g) => {
    const c = g.rollouts.filter((r) => r.correct).length;
    if (c === 0 || c === g.rollouts.length) return [];
    return g.rollouts.map((r) => ({ seq: { prompt: g.prompt, response: r.tokens }, correct: r.correct }));
  });
}

/**
 * One AdamW step of the token RM: BCE on the mean score of each response of `current` and of the replayed
 * batches, averaged over them. `scored` reuses the scoring pass when the RM trains on exactly the update batch.
 * The batch joins the replay buffer afterwards. Returns the mean BCE.
 */
async function updateRewardModel(
  rm: TokenRm,
  current: LabelledSequence[],
  replay: RmReplay | null,
  options: UpdateOptions,
  scored: { batch: ReturnType<typeof packBatch>; scores: Float32Array[] | null },
): Promise<number> {
  const items = [...current, ...(replay?.items() ?? [])];
  const seqs = items.map((x) => x.seq);
  const reuse = scored.scores !== null && items.length === current.length;
  const batch = reuse ? scored.batch : packBatch(seqs, options.padId);
  const scores = reuse ? scored.scores! : await rm.scores(batch, seqs);
  let loss = 0;
  const grads = scores.map((w, i) => {
    const r = rewardModelLoss(w, items[i].correct);
    loss += r.loss;
    return r.dScores.map((g) => g / items.length);
  });
  await rm.backward(batch, seqs, grads);
  const rmLr = cosineSchedule(options.step - 1, {
    warmup: Math.min(options.rmLrWarmup, options.totalSteps),
    total: options.totalSteps,
    lr: options.rmLr,
    minLr: options.rmLr / 5,
  });
  await rm.step({ lr: rmLr, weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm });
  replay?.add(current);
  return loss / items.length;
}
