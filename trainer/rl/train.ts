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
import { restoreRng } from "../../core/random/mod.ts";
import { createCharTokenizer, type FolderTokenizer } from "../../core/tokenizer/mod.ts";
import type { Backend } from "../gpu/backend.ts";
import type { CpuBackend } from "../gpu/cpu/mod.ts";
import { loadFolderTokenizer, type SaveOptions } from "../model/checkpoint.ts";
import type { Model } from "../model/model.ts";
import { DecodeReplicas } from "../model/replicas.ts";
import { createsDatabase, type Json, openStoreThread, type RunStore } from "../store/mod.ts";
import { latestCheckpoint } from "./checkpoints.ts";
import { ConfigError, type TrainConfig } from "./config.ts";
import { PhaseClock, type RunSummary } from "./metrics.ts";
import { buildProblems } from "./problems.ts";
import type { Reporter } from "./reporter.ts";
import type { RmMemory } from "./rl_step.ts";
import { RmMonitor } from "./rm_monitor.ts";
import { RmReplay } from "./rm_replay.ts";
import { StepLog } from "./step_log.ts";
import { tokenRm } from "./token_rm.ts";
import { finishRun } from "./train_finish.ts";
import { resumeRun } from "./train_resume.ts";
import { startRun } from "./train_start.ts";
import {
  commitStep,
  disposeModels,
  evalPoint,
  runEvaluator,
  type RunSession,
  type RunSetup,
  saveBest,
  storeMetrics,
} from "./train_state.ts";
import { type BatchSource, localBatchSource, type StepContext, trainStep } from "./train_step.ts";
import { usesWorkers, workerBatchSource } from "../workers/source.ts";
import { pathExists } from "../fs/path_exists.ts";

/** What {@linkcode runTraining} needs besides the configuration. */
export interface TrainEnv {
  reporter: Reporter;
  /** Makes the compute backend for the configured choice. */
  createBackend: (
    choice: TrainConfig["backend"],
  ) => Promise<{ backend: Backend; name: string; adapter: string | null }>;
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
  const options = { databaseUrl: config.databaseUrl, dataDir: config.dataDir };
  const creating = await createsDatabase(options);
  // The store works on a thread of its own. A database being created (seconds of initdb) holds no run, so the
  // run goes on meanwhile; an existing one is waited for, so that its errors come before any work.
  const store = openStoreThread(options);
  try {
    if (!creating) await store.ready;
    return await trainInStore(await chooseName(config, store, creating), env, store, creating, t0);
  } finally {
    await store.close();
  }
}

/** Whether folder `out` holds a run (a step checkpoint or a summary). */
async function holdsRun(out: string): Promise<boolean> {
  return await latestCheckpoint(out) !== null || await pathExists(`${out}/summary.json`);
}

/**
 * The configuration with its run name: a fresh run with the default name takes the first of `name`, `name-2`,
 * `name-3`, ... that the store does not hold (nor, with the default `--out`, a run folder). A store being created
 * (`creating`) holds none, and is not asked.
 */
export async function chooseName(
  config: TrainConfig,
  store: RunStore,
  creating = false,
): Promise<TrainConfig> {
  if (!config.defaultName || config.resume) return config;
  for (let i = 1;; i++) {
    const name = i === 1 ? config.name : `${config.name}-${i}`;
    const out = config.defaultOut ? `runs/${name}` : config.out;
    const stored = !creating && await store.findRun(name) !== null;
    if (stored || (config.defaultOut && await holdsRun(out))) continue;
    return { ...config, name, out };
  }
}

async function trainInStore(
  config: TrainConfig,
  env: TrainEnv,
  store: RunStore,
  creating: boolean,
  t0: number,
): Promise<RunSummary> {
  const { reporter } = env;
  const out = config.out;
  await Deno.mkdir(out, { recursive: true });
  const latest = await latestCheckpoint(out);
  if (!config.resume && (latest !== null || await pathExists(`${out}/summary.json`))) {
    throw new ConfigError(
      `${out} already holds a run: pass --resume to continue it, or choose another --out`,
    );
  }
  const device = await env.createBackend(config.backend);
  const replicas = decodeReplicas(config, device);
  try {
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
      `run ${config.name}: ${config.method}, preset ${config.preset}, seed ${config.seed}, ` +
        `backend ${device.name}${device.adapter ? ` (${device.adapter})` : ""}; ` +
        `${sets.train.length} train / ${sets.test.length} test problems; store ${store.target}`,
    );
    try {
      const runId = openRun(config, store, sets);
      runId.catch(() => {}); // awaited by the first write, or here
      if (!creating) await runId;
      const clock = new PhaseClock();
      const decoder = (policy: Model) => replicas?.decoderFor(policy) ?? policy;
      const setup: RunSetup = {
        config,
        reporter,
        backend: device.backend,
        tokenizer,
        hfFiles,
        sets,
        store,
        runId,
        clock,
        decoder,
        evaluate: runEvaluator(config, tokenizer, sets.test, clock, decoder),
      };
      const session = latest ? await resumeRun(setup, latest) : await startRun(setup);
      try {
        const wallBefore = session.state.wallSeconds;
        const wallSeconds = () => wallBefore + (performance.now() - t0) / 1000;
        await trainSteps(setup, session, wallSeconds);
        return await finishRun(setup, session.state, {
          backendName: device.name,
          adapter: device.adapter,
          resumed: latest !== null,
          wallSeconds,
        });
      } finally {
        disposeModels(session);
      }
    } catch (e) {
      // A configuration error (e.g. a run name that is already taken) is refused before this process trains
      // anything: it must not mark somebody else's run as failed.
      if (!(e instanceof ConfigError)) {
        const run = await store.findRun(config.name).catch(() => null);
        if (run) await store.setRunStatus(run.id, "failed").catch(() => {});
      }
      throw e;
    }
  } finally {
    replicas?.close();
    device.backend.destroy();
  }
}

/**
 * The threads that decode for the policy on the CPU backend (`--decode-threads`; default the backend's threads,
 * but 1 for a Hugging Face model, whose copies would cost memory), or null to decode on the backend itself.
 */
function decodeReplicas(
  config: TrainConfig,
  device: { backend: Backend; name: string },
): DecodeReplicas | null {
  if (device.name !== "cpu") return null;
  const threads = config.decodeThreads ??
    (config.modelPreset === "hf" ? 1 : (device.backend as CpuBackend).threads);
  return threads > 1 ? new DecodeReplicas(threads) : null;
}

/** Creates the run in the store (or finds it, on resume), records its problems and marks it running. */
async function openRun(
  config: TrainConfig,
  store: RunStore,
  sets: { train: Problem[]; test: Problem[] },
): Promise<number> {
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
  return runId;
}

/** Runs the RL steps after the session's last committed one, each evaluated when due, committed and stored. */
async function trainSteps(setup: RunSetup, session: RunSession, wallSeconds: () => number): Promise<void> {
  const { config, reporter, tokenizer, hfFiles, clock } = setup;
  const { state } = session;
  const rng = restoreRng(state.rng);
  const memory: RmMemory | null = state.rm
    ? {
      monitor: new RmMonitor(config.rmWindow, state.rm.monitor),
      replay: new RmReplay(config.rmReplay, state.rm.replay),
    }
    : null;
  const rm = session.rewardModel
    ? tokenRm(config.rmHead, session.rewardModel, session.reference, config.rmBeta, state.rm?.bias ?? null)
    : null;
  const ctx: StepContext = {
    config,
    tokenizer,
    reporter,
    clock,
    rng,
    models: { policy: session.policy, reference: session.reference, rewardModel: rm },
    memory,
  };
  // Rollout workers (--rollout-workers, --external-workers) sample through the job queue; otherwise this process.
  const remote = usesWorkers(config) && state.step < config.steps
    ? await workerBatchSource({
      config,
      runId: await setup.runId,
      tokenizer,
      hfFiles,
      train: setup.sets.train,
      log: (line) => reporter.info(line),
    })
    : null;
  try {
    await runSteps(
      setup,
      session,
      wallSeconds,
      ctx,
      remote ?? localBatchSource(setup.sets.train, tokenizer, config, rng, setup.decoder),
    );
  } finally {
    await remote?.close();
  }
}

/** The RL loop of {@linkcode trainSteps} over the batches of `source`. */
async function runSteps(
  setup: RunSetup,
  session: RunSession,
  wallSeconds: () => number,
  ctx: StepContext,
  source: BatchSource,
): Promise<void> {
  const { config, reporter, hfFiles, store, clock } = setup;
  const { state } = session;
  const { rng, memory } = ctx;
  const rm = ctx.models.rewardModel;
  const out = config.out;
  const log = new StepLog(out, { title: config.name, k: config.passK, lines: session.lines });
  const stepTimes: number[] = [];
  const runId = await setup.runId;
  // A step's store write runs on the store's thread while the next step samples. It must be done before the next
  // checkpoint commits: a resume re-sends only the latest checkpoint's step.
  let stored: Promise<unknown> = Promise.resolve();
  for (let step = state.step + 1; step <= config.steps; step++) {
    const tStep = performance.now();
    const { metrics, rollouts } = await trainStep(ctx, step, source);
    state.sampledResponses += rollouts.length;
    if ((config.evalEvery > 0 && step % config.evalEvery === 0) || step === config.steps) {
      reporter.progress(`step ${step}/${config.steps}: evaluating`);
      const run = await setup.evaluate(session.policy, step);
      const ev = run.metrics;
      metrics.eval = ev;
      state.evals.push(evalPoint(step, run));
      state.lastGreedy = run.greedy;
      if (ev.pass1 > state.best.pass1) {
        state.best = { step, pass1: ev.pass1 };
        await saveBest(out, session.policy, hfFiles, step);
      }
    }
    metrics.stepSeconds = (performance.now() - tStep) / 1000;
    metrics.elapsedSeconds = wallSeconds();
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
    await stored;
    await commitStep(session, hfFiles);
    stored = store.writeStep({ runId, step, rollouts, metrics: storeMetrics(metrics) });
    stored.catch(() => {}); // awaited before the next commit, or after the loop
    await log.add(metrics, state.evals, step === config.steps);
    stepTimes.push(metrics.stepSeconds);
    const recent = stepTimes.slice(-5);
    const eta = (recent.reduce((a, b) => a + b, 0) / recent.length) * (config.steps - step);
    reporter.step(metrics, config.steps, eta);
  }
  await stored;
}
