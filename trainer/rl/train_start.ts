/**
 * The start of a fresh run: the initial policy (new, or loaded from `--model` / `--sft-from`), the supervised
 * warm start, the SFT model as the frozen reference, the token RM copy, the SFT model's evaluation, and the
 * checkpoint of step 0.
 *
 * @module
 */

import { createRng } from "../../core/random/mod.ts";
import { loadCheckpoint, saveCheckpoint } from "../model/checkpoint.ts";
import { type ModelConfig, presetConfig } from "../model/config.ts";
import { createModel } from "../model/model.ts";
import { StepCheckpoints } from "./checkpoints.ts";
import type { TrainConfig } from "./config.ts";
import { writeMetrics } from "./metrics.ts";
import { formatEval } from "./reporter.ts";
import { RmMonitor } from "./rm_monitor.ts";
import { RmReplay } from "./rm_replay.ts";
import { runSft } from "./sft.ts";
import {
  commitStep,
  disposeModels,
  evalPoint,
  type RunModels,
  type RunSession,
  type RunSetup,
  type RunState,
  saveBest,
} from "./train_state.ts";

/** The shapes of a new model: the preset's, with `--hidden-size` / `--layers` applied to `tiny`. */
function modelConfig(config: TrainConfig, vocab: number): ModelConfig {
  if (config.modelPreset === "hf") throw new Error("a hf run starts from --model, not a new model");
  const base = presetConfig(config.modelPreset, { vocabSize: vocab });
  if (config.modelPreset !== "tiny") return base;
  const hidden = config.hiddenSize || base.hidden_size;
  return {
    ...base,
    hidden_size: hidden,
    intermediate_size: 3 * hidden,
    num_hidden_layers: config.layers || base.num_hidden_layers,
  };
}

/** Starts a fresh run: SFT, the SFT model's evaluation, and the committed checkpoint of step 0. */
export async function startRun(setup: RunSetup): Promise<RunSession> {
  const { config, reporter, backend, tokenizer, hfFiles, sets, clock } = setup;
  const out = config.out;
  const models: Partial<RunModels> = {};
  try {
    await writeMetrics(`${out}/metrics.jsonl`, []);
    const sftRng = createRng(config.seed);
    const initDir = config.sftFrom ?? config.modelDir;
    const initial = initDir
      ? (await loadCheckpoint(initDir, backend)).model
      : createModel(modelConfig(config, tokenizer.vocabSize), backend, { seed: config.seed });
    models.policy = initial;
    const sftSteps = config.sftFrom ? 0 : config.sftSteps;
    reporter.info(
      `model: ${initial.parameterCount} parameters; ` +
        (config.sftFrom ? `SFT model from ${config.sftFrom}` : `SFT ${sftSteps} steps`),
    );
    const sftTokens = await clock.time(
      "sft",
      () =>
        runSft(initial, tokenizer, sets.train, sftRng, {
          steps: sftSteps,
          batch: config.sftBatch,
          lr: config.sftLr,
          weightDecay: config.weightDecay,
          maxGradNorm: config.maxGradNorm,
          template: config.template,
          onStep: (step, loss) => {
            reporter.progress(`SFT step ${step}/${sftSteps} loss ${loss.toFixed(3)}`);
            if (step % 50 === 0 || step === sftSteps) {
              reporter.info(`SFT step ${step}/${sftSteps} loss ${loss.toFixed(3)}`);
            }
          },
        }),
      (n) => n,
    );
    // The SFT model is the reference of the KL term: a fresh optimizer for the policy from here on.
    await saveCheckpoint(`${out}/sft`, initial, hfFiles);
    models.reference = (await loadCheckpoint(`${out}/sft`, backend)).model;
    initial.dispose();
    models.policy = undefined;
    const policy = (await loadCheckpoint(`${out}/sft`, backend)).model;
    models.policy = policy;
    if (config.method === "oreal") {
      models.rewardModel = await policy.clone({ head: config.rmHead === "scalar" ? "scalar" : "lm" });
    }
    const sftRun = await setup.evaluate(policy, 0);
    const sftEval = sftRun.metrics;
    reporter.info(`SFT model: ${formatEval(sftEval)}`);
    const state: RunState = {
      step: 0,
      rng: createRng(config.seed * 7 + 3).state(),
      clock: clock.toJSON(),
      wallSeconds: 0,
      evals: [evalPoint(0, sftRun)],
      sftGreedy: sftRun.greedy,
      lastGreedy: sftRun.greedy,
      best: { step: 0, pass1: sftEval.pass1 },
      rm: config.method === "oreal"
        ? {
          monitor: new RmMonitor(config.rmWindow).toJSON(),
          replay: new RmReplay(config.rmReplay).toJSON(),
          bias: null,
        }
        : null,
      sampledResponses: 0,
      sftTokens,
      pending: null,
    };
    const session: RunSession = {
      policy,
      reference: models.reference,
      rewardModel: models.rewardModel ?? null,
      state,
      lines: [],
      checkpoints: new StepCheckpoints(out),
    };
    await saveBest(out, policy, hfFiles, 0);
    await commitStep(session, hfFiles);
    return session;
  } catch (e) {
    disposeModels(models);
    throw e;
  }
}
