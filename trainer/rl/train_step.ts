/**
 * One RL step of a run: take a batch of verified rollout groups from a {@linkcode BatchSource}, update the token RM
 * and the policy on it (`updateStep`), and return the step's metrics and its rollouts as the store keeps them.
 * Evaluation, the step checkpoint and the store write are the driver's (`train.ts`).
 *
 * @module
 */

import type { Problem } from "../../core/data/mod.ts";
import type { Rng } from "../../core/random/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { Decoder } from "../model/decode.ts";
import type { Model } from "../model/model.ts";
import type { RolloutRow } from "../store/mod.ts";
import type { TrainConfig } from "./config.ts";
import type { PhaseClock, PhaseTime, StepMetrics } from "./metrics.ts";
import type { Reporter } from "./reporter.ts";
import { type Models, type RmMemory, updateStep } from "./rl_step.ts";
import { type RolloutGroup, sampleAndVerify } from "./rollout.ts";

/** The verified rollout groups one RL step trains on. */
export interface StepBatch {
  groups: RolloutGroup[];
  /** How many policy updates the sampling policy had seen (`step - 1` when sampled by the current policy). */
  policyVersion: number;
  /** Sampled by rollout workers (the step's metrics then record the policy lag). */
  remote?: boolean;
}

/** Where an RL step's batch comes from: sampled here by the current policy, or (later) from rollout workers. */
export interface BatchSource {
  /** The batch of RL step `step` (1-based); `policy` is the current policy, before this step's update. */
  next(step: number, policy: Model): Promise<StepBatch>;
}

/** Picks `n` distinct training problems (all of them when there are fewer). */
function pickProblems(train: readonly Problem[], n: number, rng: Rng): Problem[] {
  const chosen = new Set<number>();
  const count = Math.min(n, train.length);
  while (chosen.size < count) chosen.add(rng.nextInt(train.length));
  return [...chosen].map((i) => train[i]);
}

/**
 * Samples each batch in this process with the current policy (through `decoder`, default the policy itself):
 * `promptsPerStep` training problems drawn with `rng`, `samplesPerPrompt` responses each, verified.
 */
export function localBatchSource(
  train: readonly Problem[],
  tokenizer: Tokenizer,
  config: TrainConfig,
  rng: Rng,
  decoder: (policy: Model) => Decoder = (policy) => policy,
): BatchSource {
  return {
    async next(step, policy) {
      const problems = pickProblems(train, config.promptsPerStep, rng);
      const groups = await sampleAndVerify(decoder(policy), tokenizer, problems, {
        samplesPerPrompt: config.samplesPerPrompt,
        maxNewTokens: config.maxNewTokens,
        temperature: config.temperature,
        topP: config.topP,
        topK: config.topK,
        seed: rng.nextInt(2 ** 31),
        template: config.template,
      });
      return { groups, policyVersion: step - 1 };
    },
  };
}

/** What one RL step works with besides its batch. */
export interface StepContext {
  config: TrainConfig;
  tokenizer: Tokenizer;
  reporter: Reporter;
  /** Times the sampling, scoring and update phases. */
  clock: PhaseClock;
  /** Draws the OREAL pairs. */
  rng: Rng;
  /** The policy (updated in place), its frozen reference and the token RM. */
  models: Models;
  /** The token RM's held-out scores and replay buffer ("oreal" only). */
  memory: RmMemory | null;
}

/** What one RL step did. */
export interface StepResult {
  /** The step's metrics; `eval`, `stepSeconds` and `elapsedSeconds` are left to the driver. */
  metrics: StepMetrics;
  /** Every sampled response as the store keeps it. */
  rollouts: RolloutRow[];
}

const responseTokens = (groups: readonly RolloutGroup[]) =>
  groups.reduce((n, g) => n + g.rollouts.reduce((m, r) => m + r.tokens.length, 0), 0);

/** Runs RL step `step` (1-based) on the batch that `source` gives. */
export async function trainStep(ctx: StepContext, step: number, source: BatchSource): Promise<StepResult> {
  const { config, clock, reporter } = ctx;
  reporter.progress(`step ${step}/${config.steps}: sampling`);
  const sampleClock = clock.phases.sampling.seconds;
  const batch = await clock.time(
    "sampling",
    () => source.next(step, ctx.models.policy),
    (b) => responseTokens(b.groups),
  );
  const { groups } = batch;
  const sampleSeconds = clock.phases.sampling.seconds - sampleClock;
  const all = groups.flatMap((g) => g.rollouts);
  const sampledTokens = responseTokens(groups);
  reporter.progress(`step ${step}/${config.steps}: update`);
  const before = { scoring: { ...clock.phases.scoring }, update: { ...clock.phases.update } };
  const upd = await updateStep(
    ctx.models,
    groups,
    ctx.rng,
    {
      method: config.method,
      step,
      totalSteps: config.steps,
      lr: config.lr,
      minLr: config.minLr,
      warmupSteps: config.warmupSteps,
      weightDecay: config.weightDecay,
      maxGradNorm: config.maxGradNorm,
      kl: config.kl,
      rmLr: config.rmLr,
      rmLrWarmup: config.rmLrWarmup,
      rmWarmupSteps: config.rmWarmupSteps,
      rmSamples: config.rmSamples,
      omegaGate: config.omegaGate,
      omegaGateAuc: config.omegaGateAuc,
      padId: ctx.tokenizer.padId,
    },
    clock,
    ctx.memory,
  );
  const phaseRate = (p: "scoring" | "update", b: PhaseTime) => {
    const s = clock.phases[p].seconds - b.seconds;
    return s > 0 ? (clock.phases[p].tokens - b.tokens) / s : 0;
  };
  const correct = all.filter((r) => r.correct).length;
  const mixed = groups.filter((g) => {
    const c = g.rollouts.filter((r) => r.correct).length;
    return c > 0 && c < g.rollouts.length;
  }).length;
  const metrics: StepMetrics = {
    step,
    passRate: correct / all.length,
    meanReward: (2 * correct - all.length) / all.length,
    pairsKept: mixed,
    prompts: groups.length,
    updateSequences: upd.updateSequences,
    truncatedRate: all.filter((r) => r.finishReason === "length").length / all.length,
    meanResponseTokens: sampledTokens / all.length,
    loss: upd.loss,
    lossPositive: upd.lossPositive,
    lossNegative: upd.lossNegative,
    lossKl: upd.lossKl,
    rmLoss: upd.rmLoss,
    kl: upd.kl,
    entropy: upd.entropy,
    gradNorm: upd.gradNorm,
    lr: upd.lr,
    policyUpdated: upd.policyUpdated,
    rmAuc: upd.rmAuc,
    rmAucPooled: upd.rmAucPooled,
    omegaTrust: upd.omegaTrust,
    omegaPositive: upd.omegaPositive,
    omegaNegative: upd.omegaNegative,
    omegaNegBefore: upd.omegaNegBefore,
    omegaNegAfter: upd.omegaNegAfter,
    tokensPerSecond: {
      sampling: sampleSeconds > 0 ? sampledTokens / sampleSeconds : 0,
      scoring: phaseRate("scoring", before.scoring),
      update: phaseRate("update", before.update),
    },
    stepSeconds: 0,
    elapsedSeconds: 0,
  };
  if (batch.remote) metrics.policyLag = step - 1 - batch.policyVersion;
  const rollouts: RolloutRow[] = groups.flatMap((g, gi) =>
    g.rollouts.map((r) => {
      const adv = upd.kept.get(`${gi}:${r.sampleIndex}`);
      return {
        problemSource: g.problem.source,
        problemId: g.problem.id,
        sampleIndex: r.sampleIndex,
        policyVersion: batch.policyVersion,
        response: r.text,
        tokenCount: r.tokens.length,
        finishReason: r.finishReason,
        verifierStatus: r.status,
        extractedAnswer: r.extracted,
        correct: r.correct,
        reward: r.correct ? 1 : -1,
        advantage: adv ?? null,
        kept: adv !== undefined,
      };
    })
  );
  return { metrics, rollouts };
}
