/**
 * The finish of a run: the best policy exported to `checkpoint/` (Hugging Face layout with its ONNX export, a
 * copy of the export in the run folder), the checkpoint recorded in the store, and `summary.json`.
 *
 * @module
 */

import { pairedDifferenceInterval } from "../../core/stats/mod.ts";
import { loadCheckpoint, saveCheckpoint } from "../model/checkpoint.ts";
import { writeModelOnnx } from "../model/onnx_export.ts";
import { readMetrics, type RunSummary, stepAggregates, writeSummary } from "./metrics.ts";
import { finalLine } from "./reporter.ts";
import { bestPath, type RunSetup, type RunState } from "./train_state.ts";

/** How the run was executed, for its summary. */
export interface RunFacts {
  backendName: string;
  adapter: string | null;
  /** Whether this process resumed the run. */
  resumed: boolean;
  /** Seconds the run has trained, over all its processes. */
  wallSeconds: () => number;
}

/** Exports the best policy, records it, writes `summary.json` and marks the run finished; returns the summary. */
export async function finishRun(setup: RunSetup, state: RunState, facts: RunFacts): Promise<RunSummary> {
  const { config, backend, hfFiles, store, clock, sets } = setup;
  const out = config.out;
  const best = (await loadCheckpoint(bestPath(out, state.best.step), backend)).model;
  try {
    await Deno.remove(`${out}/checkpoint`, { recursive: true }).catch(() => {});
    await saveCheckpoint(`${out}/checkpoint`, best, hfFiles);
    // checkpoint/ gets the export, so it is a complete folder for `deno task serve --model` (as Optimum lays
    // out); the run folder a copy (with model.onnx_data beside it for a model over 2 GiB).
    for (const file of await writeModelOnnx(`${out}/checkpoint`, best)) {
      await Deno.copyFile(`${out}/checkpoint/${file}`, `${out}/${file}`);
    }
  } finally {
    best.dispose();
  }
  await store.recordCheckpoint({
    runId: await setup.runId,
    step: state.best.step,
    path: `${out}/checkpoint`,
    sha256: await sha256File(`${out}/checkpoint/model.safetensors`),
    evaluation: { pass1: state.best.pass1 },
  });
  const finalEval = state.evals[state.evals.length - 1];
  const wallSeconds = facts.wallSeconds();
  const rates = clock.rates();
  const totalTokens = Object.values(clock.phases).reduce((s, p) => s + p.tokens, 0);
  const totalSeconds = Object.values(clock.phases).reduce((s, p) => s + p.seconds, 0);
  const summary: RunSummary = {
    name: config.name,
    method: config.method,
    preset: config.preset,
    seed: config.seed,
    backend: facts.backendName,
    adapter: facts.adapter,
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
    resumed: facts.resumed,
  };
  await writeSummary(`${out}/summary.json`, summary);
  await store.setRunStatus(await setup.runId, "finished");
  setup.reporter.info(finalLine(summary, out));
  return summary;
}

async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
