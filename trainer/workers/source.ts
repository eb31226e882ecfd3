/**
 * The {@linkcode BatchSource} of a run whose sampling is done by rollout workers (`--rollout-workers N`,
 * `--external-workers`): at the start of step s it publishes the current policy as version s - 1, makes sure
 * step s's jobs are enqueued, waits for its finished groups, and with `--max-policy-lag 1` enqueues step s + 1
 * with the same version before handing the batch over, so workers sample while the trainer updates.
 *
 * A step's problems and seed come from a random stream of its own (seed, step), not from the run's stream that
 * the update draws from, so enqueueing a step early changes nothing but the policy that samples it, and a
 * resumed run finds the jobs it had enqueued (and their responses) as they were.
 * @module
 */
import type { Problem } from "../../core/data/mod.ts";
import { createRng } from "../../core/random/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { SaveOptions } from "../model/checkpoint.ts";
import { sequenceSeed } from "../model/decode.ts";
import type { Model } from "../model/model.ts";
import type { TrainConfig } from "../rl/config.ts";
import type { BatchSource, StepBatch } from "../rl/train_step.ts";
import { RolloutPool } from "./pool.ts";
import { openQueue } from "./queue.ts";

/** What {@linkcode workerBatchSource} needs of the run. */
export interface WorkerSourceSetup {
  config: TrainConfig;
  runId: number;
  tokenizer: Tokenizer;
  hfFiles: SaveOptions;
  train: readonly Problem[];
  log: (line: string) => void;
}

/** A batch source that also has workers and a connection to let go of. */
export interface ClosableBatchSource extends BatchSource {
  /** Stops the local workers, drops the run's open jobs and closes the queue. */
  close(): Promise<void>;
}

/** Whether `config` samples with rollout workers. */
export function usesWorkers(config: TrainConfig): boolean {
  return (config.rolloutWorkers ?? 0) > 0 || config.externalWorkers === true;
}

/** The problems and seed of step `step`: `promptsPerStep` distinct training problems from the step's stream. */
export function stepDraw(
  train: readonly Problem[],
  config: Pick<TrainConfig, "seed" | "promptsPerStep">,
  step: number,
): { problems: Problem[]; seed: number } {
  const rng = createRng(sequenceSeed(config.seed * 7919 + 17, step));
  const chosen = new Set<number>();
  const count = Math.min(config.promptsPerStep, train.length);
  while (chosen.size < count) chosen.add(rng.nextInt(train.length));
  return { problems: [...chosen].map((i) => train[i]), seed: rng.nextInt(2 ** 31) };
}

/** Opens the queue, spawns the local workers and returns the run's worker batch source. */
export async function workerBatchSource(setup: WorkerSourceSetup): Promise<ClosableBatchSource> {
  const { config } = setup;
  const queue = await openQueue({ databaseUrl: config.databaseUrl });
  const maxLag = config.maxPolicyLag ?? 0;
  const pool = new RolloutPool({
    queue,
    runId: setup.runId,
    out: config.out,
    files: setup.hfFiles,
    tokenizer: setup.tokenizer,
    template: config.template,
    maxPolicyLag: maxLag,
    localWorkers: config.rolloutWorkers ?? 0,
    worker: {
      databaseUrl: config.databaseUrl!,
      backend: config.backend,
      threads: config.workerThreads ?? 1,
    },
    log: setup.log,
  });
  try {
    await pool.start();
  } catch (e) {
    await pool.close();
    await queue.close();
    throw e;
  }
  if ((config.rolloutWorkers ?? 0) === 0) {
    setup.log(
      `waiting for rollout workers started elsewhere: deno task rollout-worker --database-url URL --run ${config.name}`,
    );
  }
  const settings = {
    samplesPerPrompt: config.samplesPerPrompt,
    maxNewTokens: config.maxNewTokens,
    temperature: config.temperature,
    topP: config.topP,
    topK: config.topK,
    template: config.template,
  };
  const enqueue = async (step: number, version: number) => {
    const { problems, seed } = stepDraw(setup.train, config, step);
    await pool.enqueue(step, version, problems, settings, seed);
  };
  let published = -1;
  return {
    async next(step: number, policy: Model): Promise<StepBatch> {
      const current = step - 1;
      if (published !== current) {
        await pool.publish(current, policy);
        published = current;
      }
      await enqueue(step, current); // kept as they are when already enqueued (overlap, or a resumed run)
      const sampled = await pool.collect(step);
      if (maxLag >= 1 && step < config.steps) await enqueue(step + 1, current);
      return { groups: sampled.groups, policyVersion: Math.min(...sampled.versions), remote: true };
    },
    async close() {
      await pool.close();
      await queue.close();
    },
  };
}
