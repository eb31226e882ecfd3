/**
 * Supervised warm start: next-token training on worked solutions (prompt + solution + end token), the
 * loss averaged over solution tokens, AdamW with a cosine schedule. Stopped early on purpose: it plays the
 * role of the paper's SFT model, imperfect so that RL has something to fix.
 *
 * @module
 */

import type { Problem, PromptTemplate } from "../../core/data/mod.ts";
import { cosineSchedule } from "../../core/oreal/mod.ts";
import type { Rng } from "../../core/random/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { Model } from "../model/model.ts";
import { packBatch, type Sequence } from "./batch.ts";
import { encodePrompt } from "./rollout.ts";

/** SFT settings. */
export interface SftOptions {
  steps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  maxGradNorm: number;
  template: PromptTemplate;
  /** Called after each step with its mean token NLL and the number of trained tokens. */
  onStep?: (step: number, loss: number, tokens: number) => void;
}

/** The training sequence of a problem: its prompt, then its worked solution and the end token. */
export function sftSequence(tokenizer: Tokenizer, problem: Problem, template: PromptTemplate): Sequence {
  if (problem.solution === undefined) {
    throw new RangeError(`SFT: problem ${problem.id} has no worked solution`);
  }
  const body = tokenizer.encode(problem.solution);
  const response = new Uint32Array(body.length + 1);
  response.set(body);
  response[body.length] = tokenizer.eosId;
  return { prompt: encodePrompt(tokenizer, problem, template), response };
}

/**
 * Runs `options.steps` SFT steps on problems drawn uniformly with `rng` (only those with a solution).
 * Returns the number of trained tokens. Throws when no problem has a solution.
 */
export async function runSft(
  model: Model,
  tokenizer: Tokenizer,
  problems: readonly Problem[],
  rng: Rng,
  options: SftOptions,
): Promise<number> {
  const usable = problems.filter((p) => p.solution !== undefined);
  if (usable.length === 0) throw new RangeError("SFT: no problem has a worked solution");
  let trained = 0;
  const warmup = Math.min(10, Math.floor(options.steps / 10));
  for (let step = 0; step < options.steps; step++) {
    const seqs = Array.from(
      { length: options.batch },
      () => sftSequence(tokenizer, usable[rng.nextInt(usable.length)], options.template),
    );
    const batch = packBatch(seqs, tokenizer.padId);
    let n = 0;
    for (const m of batch.mask) n += m;
    const coeffs = new Float32Array(batch.mask.length);
    for (let i = 0; i < coeffs.length; i++) coeffs[i] = batch.mask[i] ? -1 / n : 0;
    model.zeroGrad();
    const { logprobs } = await model.forwardBackward(batch, coeffs);
    let nll = 0;
    for (let i = 0; i < logprobs.length; i++) if (batch.mask[i]) nll -= logprobs[i];
    const lr = cosineSchedule(step, { warmup, total: options.steps, lr: options.lr, minLr: options.lr / 10 });
    await model.step({ lr, weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm });
    trained += n;
    options.onStep?.(step + 1, nll / n, n);
  }
  return trained;
}
