/**
 * Held-out evaluation: greedy pass@1 (one greedy response per problem) with its Wilson interval, and from k
 * sampled responses per problem the mean accuracy (mean@k, with a normal interval over problems) and pass@k
 * (the unbiased estimator with n = k). On problems with gold chains it also measures how faithful the greedy
 * chains are: the fraction of correct greedy responses whose every step is right.
 *
 * @module
 */

import type { Problem } from "../../core/data/mod.ts";
import type { PromptTemplate } from "../../core/data/mod.ts";
import { meanInterval, wilsonInterval } from "../../core/stats/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { Decoder } from "../model/decode.ts";
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
  /** Skip the k sampled responses (then `passK` and `meanK` are NaN). */
  skipPassK?: boolean;
}

/** What {@linkcode evaluate} returns: the metrics, each problem's greedy verdict (1/0), and tokens generated. */
export interface Evaluation {
  metrics: EvalMetrics;
  /** 1 where the greedy response to test problem i was correct, else 0 (for paired comparisons). */
  greedy: number[];
  tokens: number;
}

/** Greedy pass@1, sampled mean@k and pass@k of `decoder`'s model on `problems`, with 95% intervals. */
export async function evaluate(
  decoder: Decoder,
  tokenizer: Tokenizer,
  problems: readonly Problem[],
  options: EvalOptions,
): Promise<Evaluation> {
  if (problems.length === 0) throw new RangeError("evaluate: no problems");
  const base = { maxNewTokens: options.maxNewTokens, topP: 1, topK: 0, template: options.template };
  const greedyGroups = await sampleAndVerify(decoder, tokenizer, problems, {
    ...base,
    samplesPerPrompt: 1,
    temperature: 0,
    seed: options.seed,
  });
  let tokens = greedyGroups.reduce((s, g) => s + g.rollouts[0].tokens.length, 0);
  const greedy = greedyGroups.map((g) => (g.rollouts[0].correct ? 1 : 0));
  const correct = greedy.reduce((a: number, b) => a + b, 0);
  // Faithfulness: a correct greedy response on a problem with a gold chain that follows the chain exactly.
  let chained = 0, faithful = 0;
  for (const g of greedyGroups) {
    const r = g.rollouts[0];
    if (!r.correct || g.problem.chain === undefined) continue;
    chained++;
    if (r.departure === null) faithful++;
  }
  const metrics: EvalMetrics = {
    pass1: correct / problems.length,
    pass1Ci95: wilsonInterval(correct, problems.length),
    passK: NaN,
    meanK: NaN,
    meanKCi95: null,
    k: options.k,
    problems: problems.length,
    faithfulness: chained > 0 ? faithful / chained : null,
  };
  if (!options.skipPassK) {
    const sampled = await sampleAndVerify(decoder, tokenizer, problems, {
      ...base,
      topP: options.topP,
      samplesPerPrompt: options.k,
      temperature: options.temperature,
      seed: options.seed + 1,
    });
    tokens += sampled.reduce((s, g) => s + g.rollouts.reduce((t, r) => t + r.tokens.length, 0), 0);
    const counts = sampled.map((g) => g.rollouts.filter((r) => r.correct).length);
    metrics.passK = meanPassAtK(counts, options.k, options.k);
    const accuracy = counts.map((c) => c / options.k);
    metrics.meanK = accuracy.reduce((a, b) => a + b, 0) / accuracy.length;
    metrics.meanKCi95 = meanInterval(accuracy);
  }
  return { metrics, greedy, tokens };
}
