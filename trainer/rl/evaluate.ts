/**
 * Held-out evaluation: greedy pass@1 (one greedy response per problem) and pass@k (k sampled responses per
 * problem, the unbiased estimator with n = k).
 *
 * @module
 */

import type { Problem } from "../../core/data/mod.ts";
import type { PromptTemplate } from "../../core/data/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { DecodableModel } from "../model/decode.ts";
import type { EvalMetrics } from "./metrics.ts";
import { meanPassAtK } from "./pass_at_k.ts";
import { sampleAndVerify } from "./rollout.ts";

/** Evaluation settings. */
export interface EvalOptions {
  k: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  template: PromptTemplate;
  /** Skip the sampled pass@k (then `passK` is NaN). */
  skipPassK?: boolean;
}

/** Greedy pass@1 and sampled pass@k of `model` on `problems`, and the tokens generated. */
export async function evaluate(
  model: DecodableModel,
  tokenizer: Tokenizer,
  problems: readonly Problem[],
  options: EvalOptions,
): Promise<{ metrics: EvalMetrics; tokens: number }> {
  if (problems.length === 0) throw new RangeError("evaluate: no problems");
  const base = { maxNewTokens: options.maxNewTokens, topP: 1, topK: 0, template: options.template };
  const greedy = await sampleAndVerify(model, tokenizer, problems, {
    ...base,
    samplesPerPrompt: 1,
    temperature: 0,
    seed: options.seed,
  });
  let tokens = greedy.reduce((s, g) => s + g.rollouts[0].tokens.length, 0);
  const pass1 = greedy.filter((g) => g.rollouts[0].correct).length / problems.length;
  let passK = NaN;
  if (!options.skipPassK) {
    const sampled = await sampleAndVerify(model, tokenizer, problems, {
      ...base,
      topP: options.topP,
      samplesPerPrompt: options.k,
      temperature: options.temperature,
      seed: options.seed + 1,
    });
    tokens += sampled.reduce((s, g) => s + g.rollouts.reduce((t, r) => t + r.tokens.length, 0), 0);
    passK = meanPassAtK(sampled.map((g) => g.rollouts.filter((r) => r.correct).length), options.k, options.k);
  }
  return { metrics: { pass1, passK, k: options.k, problems: problems.length }, tokens };
}
