/**
 * The resume of a run from its latest step checkpoint: the models and run state of that step, its step sent to
 * the store again (the store ignores a step it already has), and `metrics.jsonl` cut back to the committed steps.
 *
 * @module
 */

import { loadCheckpoint } from "../model/checkpoint.ts";
import { StepCheckpoints } from "./checkpoints.ts";
import { readMetrics, writeMetrics } from "./metrics.ts";
import {
  disposeModels,
  type RunModels,
  type RunSession,
  type RunSetup,
  type RunState,
  storeMetrics,
} from "./train_state.ts";

/** Resumes the run of `setup` from the checkpoint `latest` (its step and folder). */
export async function resumeRun(
  setup: RunSetup,
  latest: { step: number; dir: string },
): Promise<RunSession> {
  const { config, reporter, backend, store, clock } = setup;
  const out = config.out;
  reporter.info(`resuming from the checkpoint of step ${latest.step}`);
  const state = JSON.parse(await Deno.readTextFile(`${latest.dir}/state.json`)) as RunState;
  clock.restore(state.clock);
  const models: Partial<RunModels> = {};
  try {
    models.policy = (await loadCheckpoint(`${latest.dir}/policy`, backend)).model;
    models.reference = (await loadCheckpoint(`${out}/sft`, backend)).model;
    if (config.method === "oreal") {
      models.rewardModel = (await loadCheckpoint(`${latest.dir}/rm`, backend)).model;
    }
    if (state.pending) {
      await store.writeStep({
        runId: await setup.runId,
        step: state.step,
        rollouts: state.pending.rollouts,
        metrics: storeMetrics(state.pending.metrics),
      });
    }
    const lines = (await readMetrics(`${out}/metrics.jsonl`)).filter((m) => m.step <= state.step);
    if (state.pending && !lines.some((m) => m.step === state.step)) lines.push(state.pending.metrics);
    await writeMetrics(`${out}/metrics.jsonl`, lines);
    return {
      policy: models.policy,
      reference: models.reference,
      rewardModel: models.rewardModel ?? null,
      state,
      lines,
      checkpoints: new StepCheckpoints(out, latest.dir),
    };
  } catch (e) {
    disposeModels(models);
    throw e;
  }
}
