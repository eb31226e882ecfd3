/**
 * A whole training run, end to end: problems, supervised warm start, held-out evaluation, the RL loop (OREAL or
 * a baseline), step-boundary checkpoints that a resume continues from, the store, and the outputs of the run
 * folder (`metrics.jsonl`, `summary.json`, `curve.svg`, `checkpoint/`, `model.onnx`).
 *
 * Crash safety: after the update of step N, the checkpoint of step N (models with optimizer state, RNG state,
 * and the step's rollouts and metrics) is committed first, then the step goes to the store in one transaction.
 * A resume loads the latest checkpoint and re-sends its step to the store, which ignores a step it already has:
 * every sampled rollout is stored exactly once, whenever the process was killed.
 *
 * @module
 */

import { CHAT_TEMPLATES, formatPrompt, type Problem } from "../../core/data/mod.ts";
import { createRng, restoreRng, type Rng } from "../../core/random/mod.ts";
import { createCharTokenizer, type FolderTokenizer, type Tokenizer } from "../../core/tokenizer/mod.ts";
import type { Backend } from "../gpu/backend.ts";
import {
  loadCheckpoint,
  loadFolderTokenizer,
  saveCheckpoint,
  type SaveOptions,
} from "../model/checkpoint.ts";
import { type ModelConfig, presetConfig, type PresetName as ModelPreset } from "../model/config.ts";
import { createModel, type Model } from "../model/model.ts";
import { writeOnnx } from "../model/onnx_export.ts";
import { openStore, type Store } from "../store/store.ts";
import type { Json } from "../store/schema.ts";
import type { RolloutRow, StepMetrics as StoreStepMetrics } from "../store/types.ts";
import { commitCheckpoint, latestCheckpoint } from "./checkpoints.ts";
import { ConfigError, type TrainConfig } from "./config.ts";
import { runCurveSvg } from "./curve.ts";
import { evaluate, type Evaluation } from "./evaluate.ts";
import {
  appendMetrics,
  type EvalPoint,
  PhaseClock,
  type PhaseTime,
  readMetrics,
  type RunSummary,
  stepAggregates,
  type StepMetrics,
  writeFileAtomic,
  writeMetrics,
  writeSummary,
} from "./metrics.ts";
import { finalLine, formatEval } from "./reporter.ts";
import { buildProblems } from "./problems.ts";
import type { Reporter } from "./reporter.ts";
import { type RmMemory, type UpdateResult, updateStep } from "./rl_step.ts";
import { RmMonitor, type RmMonitorState } from "./rm_monitor.ts";
import { RmReplay, type RmReplayState } from "./rm_replay.ts";
import { pairedDifferenceInterval } from "../../core/stats/mod.ts";
import { sampleAndVerify } from "./rollout.ts";
import { runSft } from "./sft.ts";
import { type RmBiasState, tokenRm } from "./token_rm.ts";

/** Model shapes of the `tiny` preset: small enough for a 2-core CPU, large enough to learn the problems. */
export const TINY_MODEL: Omit<ModelConfig, "vocab_size"> = {
  hidden_size: 64,
  intermediate_size: 192,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
  max_position_embeddings: 256,
};

/** The state saved with each checkpoint besides the models. */
interface RunState {
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

/** What {@linkcode runTraining} needs besides the configuration. */
export interface TrainEnv {
  reporter: Reporter;
  /** Makes the compute backend for the configured choice. */
  createBackend: (
    choice: TrainConfig["backend"],
  ) => Promise<{ backend: Backend; name: string; adapter: string | null }>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The tokenizer (with its stop ids and tokenizer_config.json) of `--model`, or the character tokenizer. */
async function makeTokenizer(config: TrainConfig): Promise<FolderTokenizer> {
  if (!config.modelDir) {
    return {
      tokenizer: createCharTokenizer(),
      chatTemplate: null,
      tokenizerConfig: {},
      generationConfig: {},
    };
  }
  return await loadFolderTokenizer(config.modelDir).catch((e) => {
    throw new ConfigError(`--model: ${e instanceof Error ? e.message : e}`);
  });
}

function modelConfig(config: TrainConfig, vocab: number): ModelConfig {
  if (config.modelPreset === "tiny") {
    const hidden = config.hiddenSize || TINY_MODEL.hidden_size;
    return {
      ...TINY_MODEL,
      hidden_size: hidden,
      intermediate_size: 3 * hidden,
      num_hidden_layers: config.layers || TINY_MODEL.num_hidden_layers,
      vocab_size: vocab,
    };
  }
  return presetConfig(config.modelPreset as ModelPreset, { vocabSize: vocab });
}

/** Picks `n` distinct training problems (all of them when there are fewer). */
function pickProblems(train: readonly Problem[], n: number, rng: Rng): Problem[] {
  const chosen = new Set<number>();
  const count = Math.min(n, train.length);
  while (chosen.size < count) chosen.add(rng.nextInt(train.length));
  return [...chosen].map((i) => train[i]);
}

function storeMetrics(m: StepMetrics): StoreStepMetrics {
  const out: StoreStepMetrics = {
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
  if (m.rmLoss !== null) out.losses!.rm = m.rmLoss;
  if (m.eval) {
    // Evaluations between the first and the last are greedy only: their sampled figures are NaN, stored as null.
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    out.eval = { ...m.eval, passK: finite(m.eval.passK), meanK: finite(m.eval.meanK) } as Json;
  }
  return out;
}

function problemRows(sets: { train: Problem[]; test: Problem[] }, template: TrainConfig["template"]) {
  const rows = [];
  for (const [split, list] of [["train", sets.train], ["test", sets.test]] as const) {
    for (const p of list) {
      rows.push({
        source: p.source,
        id: p.id,
        prompt: formatPrompt(p, template),
        gold: p.gold,
        split,
        level: p.level === undefined ? null : String(p.level),
      });
    }
  }
  return rows;
}

/** Runs (or resumes) the training run of `config`; returns its summary (also written to `summary.json`). */
export async function runTraining(config: TrainConfig, env: TrainEnv): Promise<RunSummary> {
  const t0 = performance.now();
  const { reporter } = env;
  const out = config.out;
  await Deno.mkdir(out, { recursive: true });
  const latest = await latestCheckpoint(out);
  if (!config.resume && (latest !== null || await exists(`${out}/summary.json`))) {
    throw new ConfigError(
      `${out} already holds a run: pass --resume to continue it, or choose another --out`,
    );
  }
  const { backend, name: backendName, adapter } = await env.createBackend(config.backend);
  const folder = await makeTokenizer(config);
  const tokenizer = folder.tokenizer;
  // Every folder the run writes records the tokenizer and the template the model is trained with.
  const hfFiles: SaveOptions = {
    tokenizer,
    chatTemplate: CHAT_TEMPLATES[config.template],
    tokenizerConfig: folder.tokenizerConfig,
    generationConfig: folder.generationConfig,
  };
  const sets = await buildProblems(config);
  if (config.method === "oreal-oracle" && sets.train.some((p) => p.chain === undefined)) {
    throw new ConfigError(
      "--method oreal-oracle needs problems with gold chains (the generator's chain or carry families)",
    );
  }
  reporter.info(
    `run ${config.name}: ${config.method}, preset ${config.preset}, seed ${config.seed}, backend ${backendName}` +
      `${adapter ? ` (${adapter})` : ""}; ${sets.train.length} train / ${sets.test.length} test problems`,
  );
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: `${out}/db` });
  try {
    return await trainWithStore(config, env, {
      backend,
      backendName,
      adapter,
      tokenizer,
      hfFiles,
      sets,
      store,
      latest,
      t0,
    });
  } catch (e) {
    // A configuration error (e.g. a run name that is already taken) is refused before this process trains
    // anything: it must not mark somebody else's run as failed.
    if (!(e instanceof ConfigError)) {
      const run = await store.findRun(config.name).catch(() => null);
      if (run) await store.setRunStatus(run.id, "failed").catch(() => {});
    }
    throw e;
  } finally {
    await store.close();
  }
}

interface Ctx {
  backend: Backend;
  backendName: string;
  adapter: string | null;
  tokenizer: Tokenizer;
  /** The tokenizer files and chat template that every saved folder gets. */
  hfFiles: SaveOptions;
  sets: { train: Problem[]; test: Problem[] };
  store: Store;
  latest: { step: number; dir: string } | null;
  t0: number;
}

async function trainWithStore(config: TrainConfig, env: TrainEnv, ctx: Ctx): Promise<RunSummary> {
  const { reporter } = env;
  const { backend, tokenizer, hfFiles, sets, store } = ctx;
  const out = config.out;
  const existing = await store.findRun(config.name);
  if (existing && !config.resume) {
    throw new ConfigError(
      `the store already has a run named "${config.name}": pass --resume or another --name`,
    );
  }
  const runId = existing?.id ??
    await store.createRun({
      name: config.name,
      method: config.method,
      config: config as unknown as { [k: string]: Json },
    });
  await store.upsertProblems(problemRows(sets, config.template));
  await store.setRunStatus(runId, "running");
  const clock = new PhaseClock();
  const evalOpts = {
    k: config.passK,
    maxNewTokens: config.maxNewTokens,
    temperature: config.temperature,
    topP: config.topP,
    template: config.template,
  };
  // The k samples per problem (mean@k, pass@k) cost k greedy evaluations: they are taken for the SFT model and
  // the final one; the evaluations between are greedy only.
  const runEval = (policy: Model, step: number): Promise<Evaluation> =>
    clock.time(
      "eval",
      () =>
        evaluate(policy, tokenizer, sets.test, {
          ...evalOpts,
          seed: config.seed * 1000 + step,
          skipPassK: step !== 0 && step !== config.steps,
        }),
      (v) => v.tokens,
    );
  const evalPoint = (step: number, e: Evaluation): EvalPoint => ({
    step,
    pass1: e.metrics.pass1,
    passk: e.metrics.passK,
    meank: Number.isFinite(e.metrics.meanK) ? e.metrics.meanK : null,
    pass1Ci95: e.metrics.pass1Ci95,
    meankCi95: e.metrics.meanKCi95,
    faithfulness: e.metrics.faithfulness,
  });
  let policy: Model, reference: Model, rewardModel: Model | null = null;
  let state: RunState;
  const useRm = config.method === "oreal";
  if (ctx.latest) {
    reporter.info(`resuming from the checkpoint of step ${ctx.latest.step}`);
    state = JSON.parse(await Deno.readTextFile(`${ctx.latest.dir}/state.json`)) as RunState;
    clock.restore(state.clock as Record<string, PhaseTime>);
    policy = (await loadCheckpoint(`${ctx.latest.dir}/policy`, backend)).model;
    reference = (await loadCheckpoint(`${out}/sft`, backend)).model;
    if (useRm) rewardModel = (await loadCheckpoint(`${ctx.latest.dir}/rm`, backend)).model;
    if (state.pending) {
      await store.writeStep({
        runId,
        step: state.step,
        rollouts: state.pending.rollouts,
        metrics: storeMetrics(state.pending.metrics),
      });
    }
    const lines = (await readMetrics(`${out}/metrics.jsonl`)).filter((m) => m.step <= state.step);
    if (state.pending && !lines.some((m) => m.step === state.step)) lines.push(state.pending.metrics);
    await writeMetrics(`${out}/metrics.jsonl`, lines);
  } else {
    await writeMetrics(`${out}/metrics.jsonl`, []);
    const sftRng = createRng(config.seed);
    const initDir = config.sftFrom ?? config.modelDir;
    policy = initDir
      ? (await loadCheckpoint(initDir, backend)).model
      : createModel(modelConfig(config, tokenizer.vocabSize), backend, { seed: config.seed });
    const sftSteps = config.sftFrom ? 0 : config.sftSteps;
    reporter.info(
      `model: ${policy.parameterCount} parameters; ` +
        (config.sftFrom ? `SFT model from ${config.sftFrom}` : `SFT ${sftSteps} steps`),
    );
    const sftTokens = await clock.time(
      "sft",
      () =>
        runSft(policy, tokenizer, sets.train, sftRng, {
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
    await saveCheckpoint(`${out}/sft`, policy, hfFiles);
    reference = (await loadCheckpoint(`${out}/sft`, backend)).model;
    policy.dispose();
    policy = (await loadCheckpoint(`${out}/sft`, backend)).model;
    if (useRm) rewardModel = await policy.clone({ head: config.rmHead === "scalar" ? "scalar" : "lm" });
    const sftRun = await runEval(policy, 0);
    const sftEval = sftRun.metrics;
    reporter.info(`SFT model: ${formatEval(sftEval)}`);
    state = {
      step: 0,
      rng: createRng(config.seed * 7 + 3).state(),
      clock: clock.toJSON(),
      wallSeconds: 0,
      evals: [evalPoint(0, sftRun)],
      sftGreedy: sftRun.greedy,
      lastGreedy: sftRun.greedy,
      best: { step: 0, pass1: sftEval.pass1 },
      rm: useRm
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
    await saveBest(out, policy, hfFiles, 0);
    await commit(out, state, policy, rewardModel, hfFiles);
  }
  const wallBefore = state.wallSeconds;
  const processStart = ctx.t0;
  const wall = () => wallBefore + (performance.now() - processStart) / 1000;
  const rng = restoreRng(state.rng);
  const memory: RmMemory | null = state.rm
    ? {
      monitor: new RmMonitor(config.rmWindow, state.rm.monitor),
      replay: new RmReplay(config.rmReplay, state.rm.replay),
    }
    : null;
  const rm = rewardModel
    ? tokenRm(config.rmHead, rewardModel, reference, config.rmBeta, state.rm?.bias ?? null)
    : null;
  const stepTimes: number[] = [];
  for (let step = state.step + 1; step <= config.steps; step++) {
    const tStep = performance.now();
    const problems = pickProblems(sets.train, config.promptsPerStep, rng);
    const sampleSeed = rng.nextInt(2 ** 31);
    reporter.progress(`step ${step}/${config.steps}: sampling`);
    const sampleClock = clock.phases.sampling.seconds;
    const groups = await clock.time(
      "sampling",
      () =>
        sampleAndVerify(policy, tokenizer, problems, {
          samplesPerPrompt: config.samplesPerPrompt,
          maxNewTokens: config.maxNewTokens,
          temperature: config.temperature,
          topP: config.topP,
          topK: config.topK,
          seed: sampleSeed,
          template: config.template,
        }),
      (gs) => gs.reduce((n, g) => n + g.rollouts.reduce((m, r) => m + r.tokens.length, 0), 0),
    );
    const sampleSeconds = clock.phases.sampling.seconds - sampleClock;
    const all = groups.flatMap((g) => g.rollouts);
    const sampledTokens = all.reduce((n, r) => n + r.tokens.length, 0);
    reporter.progress(`step ${step}/${config.steps}: update`);
    const before = { scoring: { ...clock.phases.scoring }, update: { ...clock.phases.update } };
    const upd: UpdateResult = await updateStep(
      {
        policy,
        reference,
        rewardModel: rm,
      },
      groups,
      rng,
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
        padId: tokenizer.padId,
      },
      clock,
      memory,
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
    state.sampledResponses += all.length;
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
    if ((config.evalEvery > 0 && step % config.evalEvery === 0) || step === config.steps) {
      reporter.progress(`step ${step}/${config.steps}: evaluating`);
      const run = await runEval(policy, step);
      const ev = run.metrics;
      metrics.eval = ev;
      state.evals.push(evalPoint(step, run));
      state.lastGreedy = run.greedy;
      if (ev.pass1 > state.best.pass1) {
        state.best = { step, pass1: ev.pass1 };
        await saveBest(out, policy, hfFiles, step);
      }
    }
    metrics.stepSeconds = (performance.now() - tStep) / 1000;
    metrics.elapsedSeconds = wall();
    const rollouts: RolloutRow[] = groups.flatMap((g, gi) =>
      g.rollouts.map((r) => {
        const adv = upd.kept.get(`${gi}:${r.sampleIndex}`);
        return {
          problemSource: g.problem.source,
          problemId: g.problem.id,
          sampleIndex: r.sampleIndex,
          policyVersion: step - 1,
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
    state.step = step;
    state.rng = rng.state();
    state.clock = clock.toJSON();
    state.wallSeconds = metrics.elapsedSeconds;
    if (memory) {
      state.rm = {
        monitor: memory.monitor.toJSON(),
        replay: memory.replay.toJSON(),
        bias: rm?.bias() ?? null,
      };
    }
    state.pending = { rollouts, metrics };
    await commit(out, state, policy, rewardModel, hfFiles);
    await store.writeStep({ runId, step, rollouts, metrics: storeMetrics(metrics) });
    await appendMetrics(`${out}/metrics.jsonl`, metrics);
    await writeFileAtomic(
      `${out}/curve.svg`,
      runCurveSvg(`${config.name}`, state.evals, await readMetrics(`${out}/metrics.jsonl`), config.passK),
    );
    stepTimes.push(metrics.stepSeconds);
    const recent = stepTimes.slice(-5);
    const eta = (recent.reduce((a, b) => a + b, 0) / recent.length) * (config.steps - step);
    reporter.step(metrics, config.steps, eta);
  }
  // Export the best policy in the Hugging Face layout and as ONNX.
  const bestDir = bestPath(out, state.best.step);
  const best = (await loadCheckpoint(bestDir, backend)).model;
  await Deno.remove(`${out}/checkpoint`, { recursive: true }).catch(() => {});
  await saveCheckpoint(`${out}/checkpoint`, best, hfFiles);
  const weights = new Map<string, Float32Array>();
  for (const s of best.layout.specs) {
    if (s.name !== "score.weight") weights.set(s.name, await best.getParam(s.name));
  }
  // checkpoint/ gets the export, so it is a complete folder for `deno task serve --model` (as Optimum lays out);
  // the run folder a copy (with model.onnx_data beside it for a model over 2 GiB).
  for (const file of await writeOnnx(`${out}/checkpoint`, best.config, weights)) {
    await Deno.copyFile(`${out}/checkpoint/${file}`, `${out}/${file}`);
  }
  await store.recordCheckpoint({
    runId,
    step: state.best.step,
    path: `${out}/checkpoint`,
    sha256: await sha256File(`${out}/checkpoint/model.safetensors`),
    evaluation: { pass1: state.best.pass1 },
  });
  best.dispose();
  const finalEval = state.evals[state.evals.length - 1];
  const wallSeconds = wall();
  const rates = clock.rates();
  const totalTokens = Object.values(clock.phases).reduce((s, p) => s + p.tokens, 0);
  const totalSeconds = Object.values(clock.phases).reduce((s, p) => s + p.seconds, 0);
  const summary: RunSummary = {
    name: config.name,
    method: config.method,
    preset: config.preset,
    seed: config.seed,
    backend: ctx.backendName,
    adapter: ctx.adapter,
    steps: config.steps,
    sft_steps: config.sftSteps,
    sft_pass1: state.evals[0].pass1,
    final_pass1: finalEval.pass1,
    final_passk: Number.isFinite(finalEval.passk) ? finalEval.passk : null,
    k: config.passK,
    sft_pass1_ci95: state.evals[0].pass1Ci95,
    final_pass1_ci95: finalEval.pass1Ci95,
    gain_ci95: pairedDifferenceInterval(state.sftGreedy, state.lastGreedy),
    sft_meank: state.evals[0].meank,
    final_meank: finalEval.meank,
    final_meank_ci95: finalEval.meankCi95,
    sft_faithfulness: state.evals[0].faithfulness,
    ...stepAggregates(await readMetrics(`${out}/metrics.jsonl`)),
    best_pass1: state.best.pass1,
    best_step: state.best.step,
    evals: state.evals,
    wall_seconds: wallSeconds,
    tokens_per_second: totalSeconds > 0 ? totalTokens / totalSeconds : 0,
    tokens_per_second_by_phase: rates,
    seconds_by_phase: clock.seconds(),
    sampled_responses: state.sampledResponses,
    test_problems: sets.test.length,
    train_problems: sets.train.length,
    resumed: ctx.latest !== null,
  };
  await writeSummary(`${out}/summary.json`, summary);
  await store.setRunStatus(runId, "finished");
  reporter.info(finalLine(summary, out));
  policy.dispose();
  reference.dispose();
  rewardModel?.dispose();
  return summary;
}

function bestPath(out: string, step: number): string {
  return `${out}/best/step-${String(step).padStart(6, "0")}`;
}

/** Saves the best policy so far under `best/step-N`, removing older best folders. */
async function saveBest(out: string, policy: Model, files: SaveOptions, step: number): Promise<void> {
  const dir = bestPath(out, step);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await saveCheckpoint(dir, policy, files);
}

/** Commits the step checkpoint (policy and RM with optimizer state, and the run state). */
async function commit(
  out: string,
  state: RunState,
  policy: Model,
  rewardModel: Model | null,
  files: SaveOptions,
): Promise<void> {
  await commitCheckpoint(out, state.step, async (dir) => {
    await saveCheckpoint(`${dir}/policy`, policy, { ...files, optimizer: true });
    if (rewardModel) await saveCheckpoint(`${dir}/rm`, rewardModel, { ...files, optimizer: true });
    await Deno.writeTextFile(`${dir}/state.json`, JSON.stringify(state));
  });
  // Best folders other than the one the committed state names are from an interrupted step: drop them.
  const keep = bestPath(out, state.best.step);
  for await (const e of Deno.readDir(`${out}/best`)) {
    if (`${out}/best/${e.name}` !== keep) await Deno.remove(`${out}/best/${e.name}`, { recursive: true });
  }
}

async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
