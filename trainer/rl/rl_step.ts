/**
 * The update of one RL step (OREAL.md steps 3-7), after sampling and verification: choose the update samples
 * of the method, score them with the policy, the frozen reference and the token reward model, update the token
 * RM, and (after the RM warm-up) the policy with the per-token coefficients of core/oreal.
 *
 * @module
 */

import {
  cosineSchedule,
  defaultMethodConfig,
  type Method,
  type PolicySample,
  rewardModelLoss,
  tokenCoefficients,
  updateSamples,
} from "../../core/oreal/mod.ts";
import type { Rng } from "../../core/random/mod.ts";
import type { Model } from "../model/model.ts";
import { packBatch, packResponses, type Sequence, unpackResponses } from "./batch.ts";
import type { PhaseClock, StepMetrics } from "./metrics.ts";
import type { RolloutGroup } from "./rollout.ts";

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
  rmLr: number;
  rmWarmupSteps: number;
  padId: number;
}

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
  > {
  /** Advantage of each kept response, keyed `group:sample`. */
  kept: Map<string, number>;
}

/** The three models of a run: the policy, its frozen reference, and the token RM ("oreal" only). */
export interface Models {
  policy: Model;
  reference: Model;
  rewardModel: Model | null;
}

/** Runs the update of one step; `rng` draws the OREAL pairs. Times scoring and update phases on `clock`. */
export async function updateStep(
  models: Models,
  groups: readonly RolloutGroup[],
  rng: Rng,
  options: UpdateOptions,
  clock: PhaseClock,
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
  };
  if (samples.length === 0) return result;
  const seqs: Sequence[] = samples.map((s) => ({
    prompt: groups[s.group].prompt,
    response: groups[s.group].rollouts[s.index].tokens,
  }));
  const batch = packBatch(seqs, options.padId);
  const tokens = seqs.reduce((n, s) => n + s.response.length, 0);
  const useRm = options.method === "oreal" && models.rewardModel !== null;
  const scored = await clock.time("scoring", async () => {
    const policy = await models.policy.logprobs(batch);
    const ref = await models.reference.logprobs(batch);
    const rm = useRm ? await models.rewardModel!.scores(batch) : null;
    return { policy, ref, rm };
  }, () => tokens * (useRm ? 3 : 2));
  const lp = unpackResponses(scored.policy.logprobs, seqs, batch.seqLen);
  const ent = unpackResponses(scored.policy.entropies, seqs, batch.seqLen);
  const ref = unpackResponses(scored.ref.logprobs, seqs, batch.seqLen);
  const rmScores = scored.rm ? unpackResponses(scored.rm, seqs, batch.seqLen) : null;
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
  const policySamples: PolicySample[] = samples.map((s, i) => ({
    correct: s.correct,
    advantage: s.advantage,
    logprobs: lp[i],
    refLogprobs: ref[i],
    ...(rmScores ? { rmScores: rmScores[i] } : {}),
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
    if (useRm && rmScores) {
      // Token RM: BCE on the mean score of each response, averaged over the update batch.
      const rm = models.rewardModel!;
      let loss = 0;
      const grads = rmScores.map((w, i) => {
        const r = rewardModelLoss(w, samples[i].correct);
        loss += r.loss;
        return r.dScores.map((g) => g / samples.length);
      });
      result.rmLoss = loss / samples.length;
      rm.zeroGrad();
      rm.scoresBackward(batch, packResponses(grads, seqs, batch.seqLen));
      const rmLr = cosineSchedule(options.step - 1, {
        warmup: 0,
        total: options.totalSteps,
        lr: options.rmLr,
        minLr: options.rmLr / 5,
      });
      await rm.step({ lr: rmLr, weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm });
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
