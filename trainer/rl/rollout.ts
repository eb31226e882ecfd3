/**
 * Sampling and verification: K responses per prompt from the policy, each judged against its problem's gold
 * answer (a response cut off by the length limit is wrong), grouped by prompt.
 *
 * @module
 */

import type { Problem } from "../../core/data/mod.ts";
import type { FinishReason } from "../../core/sampling/mod.ts";
import { chainDeparture, formatPrompt, type PromptTemplate } from "../../core/data/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import { type AnswerForm, verify } from "../../core/verify/mod.ts";
import { type Decoder, decodeWith } from "../model/decode.ts";

/** One verified response. */
export interface Rollout {
  problem: Problem;
  sampleIndex: number;
  /** Response tokens, ending with the stop token when `finishReason` is "stop". */
  tokens: Uint32Array;
  /** Response text without the stop token. */
  text: string;
  finishReason: FinishReason;
  correct: boolean;
  /** The verifier's status word. */
  status: string;
  extracted: string | null;
  /**
   * Where the response leaves its problem's gold chain: the index of its first wrong step and of the response
   * token holding the first wrong character. Null when it follows the chain to the end, or when the problem has
   * no chain.
   */
  departure: { step: number; token: number } | null;
}

/** The K responses of one prompt. */
export interface RolloutGroup {
  problem: Problem;
  /** Encoded prompt. */
  prompt: Uint32Array;
  rollouts: Rollout[];
}

/** Sampling settings. `temperature` 0 decodes greedily. */
export interface SampleOptions {
  samplesPerPrompt: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  /** A seed per problem in place of `seed` (see `GenerateOptions.promptSeeds`). */
  promptSeeds?: readonly number[];
  template: PromptTemplate;
}

/** One response to judge: the problem's gold answer and answer form, and whether the length limit cut it. */
export interface VerifyRequest {
  gold: string;
  response: string;
  truncated: boolean;
  form?: AnswerForm;
}

/** A verdict as the rollouts keep it. */
export interface RolloutVerdict {
  correct: boolean;
  status: string;
  extracted: string | null;
}

/** Judges a batch of responses, verdicts in request order (`core/verify` here, or a verifier over HTTP). */
export type BatchVerifier = (requests: readonly VerifyRequest[]) => Promise<RolloutVerdict[]>;

/** The batch verifier that runs `core/verify` in this process. */
export const localVerifier: BatchVerifier = (requests) =>
  Promise.resolve(requests.map((r) => {
    const v = verify(r.gold, r.response, { truncated: r.truncated, ...(r.form ? { form: r.form } : {}) });
    return { correct: v.correct, status: v.status, extracted: v.extracted ?? null };
  }));

/** Encodes the prompt of a problem (BOS first when the tokenizer has one). */
export function encodePrompt(tokenizer: Tokenizer, problem: Problem, template: PromptTemplate): Uint32Array {
  const ids = tokenizer.encode(formatPrompt(problem, template));
  if (tokenizer.bosId === null) return ids;
  const out = new Uint32Array(ids.length + 1);
  out[0] = tokenizer.bosId;
  out.set(ids, 1);
  return out;
}

/**
 * The index of the token holding character `offset` of the decoded `tokens` (the token count when the offset is
 * past the end). Each token is decoded on its own, so a character split across tokens counts at the first one.
 */
export function tokenAtChar(tokenizer: Tokenizer, tokens: ArrayLike<number>, offset: number): number {
  let chars = 0;
  for (let i = 0; i < tokens.length; i++) {
    chars += tokenizer.decode([tokens[i]]).length;
    if (chars > offset) return i;
  }
  return tokens.length;
}

/**
 * Samples K responses for every problem with `decoder` (a model, or replicas of one) and verifies them (with
 * `verifier`); groups come back in problem order.
 */
export async function sampleAndVerify(
  decoder: Decoder,
  tokenizer: Tokenizer,
  problems: readonly Problem[],
  options: SampleOptions,
  verifier: BatchVerifier = localVerifier,
): Promise<RolloutGroup[]> {
  const prompts = problems.map((p) => encodePrompt(tokenizer, p, options.template));
  const generated = await decodeWith(decoder, prompts, {
    samplesPerPrompt: options.samplesPerPrompt,
    maxNewTokens: options.maxNewTokens,
    temperature: options.temperature,
    topP: options.topP,
    topK: options.topK,
    stopTokens: [...tokenizer.stopIds],
    sampledVocab: tokenizer.vocabSize,
    seed: options.seed,
    ...(options.promptSeeds ? { promptSeeds: options.promptSeeds } : {}),
  });
  const groups: RolloutGroup[] = problems.map((problem, i) => ({
    problem,
    prompt: prompts[i],
    rollouts: [],
  }));
  const bodies = generated.map((g) =>
    g.finishReason === "stop" ? g.tokens.subarray(0, g.tokens.length - 1) : g.tokens
  );
  const texts = bodies.map((b) => tokenizer.decode(b));
  const verdicts = await verifier(generated.map((g, i) => {
    const problem = problems[g.promptIndex];
    return {
      gold: problem.gold,
      response: texts[i],
      truncated: g.finishReason === "length",
      ...(problem.form ? { form: problem.form } : {}),
    };
  }));
  generated.forEach((g, i) => {
    const problem = problems[g.promptIndex];
    const text = texts[i];
    const verdict = verdicts[i];
    const dep = problem.chain ? chainDeparture(problem.chain, text) : null;
    groups[g.promptIndex].rollouts.push({
      problem,
      sampleIndex: g.sampleIndex,
      tokens: g.tokens,
      text,
      finishReason: g.finishReason,
      correct: verdict.correct,
      status: verdict.status,
      extracted: verdict.extracted,
      departure: dep ? { step: dep.step, token: tokenAtChar(tokenizer, bodies[i], dep.offset) } : null,
    });
  });
  for (const g of groups) g.rollouts.sort((a, b) => a.sampleIndex - b.sampleIndex);
  return groups;
}
