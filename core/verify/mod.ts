/**
 * The maths answer verifier: turns a model response and a gold answer into a binary reward.
 *
 * ```ts
 * import { verify } from "./mod.ts";
 * verify("\\frac{1}{2}", "So the answer is $\\boxed{0.5}$.").correct; // true
 * ```
 *
 * @module
 */

export { DEFAULT_REL_TOL, DEFAULT_TIMEOUT_MS, judgeVerdict, verify } from "./verify.ts";
export { extractAnswer, extractGold, lastBoxed } from "./extract.ts";
export { normalizeAnswer } from "./normalize.ts";
export { parseAnswer } from "./parser.ts";
export { ANSWER_FORMS } from "./form.ts";
export { createJudge, DEFAULT_JUDGE_TIMEOUT_MS, judgeFromEnv } from "./judge.ts";
export type { Judge, JudgeConfig, JudgeQuery, JudgeResult } from "./judge.ts";
export type { AnswerForm, JudgedVerifyOptions, Verdict, VerifyOptions, VerifyStatus } from "./types.ts";
export type { Value } from "./value.ts";
