/**
 * Public types of the verifier: the verdict it returns and the options it takes.
 *
 * @module
 */

/** How a verification ended. Only `"correct"` earns the reward. */
export type VerifyStatus = "correct" | "wrong" | "no_answer" | "unparseable" | "timeout";

/** The outcome of checking one response against one gold answer. */
export interface Verdict {
  /** True exactly when `status` is `"correct"`. */
  correct: boolean;
  /** How the check ended. */
  status: VerifyStatus;
  /** The answer found in the response (before normalisation), or null when none was found. */
  extracted: string | null;
  /** A short human-readable explanation of the status. */
  reason: string;
  /**
   * Set when the rules' "wrong"/"unparseable" went to the LLM judge: what it decided (`failed`: no usable
   * reply, so the rule verdict stands).
   */
  judged?: "correct" | "wrong" | "failed";
}

import type { AnswerForm } from "./form.ts";
import type { Judge } from "./judge.ts";

export type { AnswerForm } from "./form.ts";

/** Options of {@linkcode verify}; every field is optional. */
export interface VerifyOptions {
  /** The sampler stopped at its length limit: the verdict is `"wrong"` whatever the text says. */
  truncated?: boolean;
  /** Time budget for one verification in milliseconds (default 2000). Exceeding it gives `"timeout"`. */
  timeoutMs?: number;
  /** Relative tolerance when either side is a decimal number (default 1e-6). */
  relTol?: number;
  /**
   * When set, numbers are compared after rounding both to this many decimal places if either side is a
   * decimal (Math-Verify's `float_rounding`/`precision`), instead of the relative tolerance.
   */
  decimalPlaces?: number;
  /**
   * Accept an inequality in the response for an interval/set gold answer (Math-Verify's
   * `allow_set_relation_comp`). Off by default: the gold decides the form.
   */
  relationAsSet?: boolean;
  /**
   * The question asks for the gold's unit: an equal quantity in another unit of the same dimension
   * (`5000 g` for `5 kg`) is wrong. Off by default (such answers are converted and compared). A different
   * dimension, or another unit with the same number (`3.5 gal` for `3.5 L`), is wrong either way.
   */
  sameUnit?: boolean;
  /**
   * The form the question asks for ("factor completely": `factored`); an equal answer in another form is
   * wrong. See {@linkcode AnswerForm}.
   */
  form?: AnswerForm;
  /** Seed of the random points used to compare symbolic expressions (default fixed, so verdicts repeat). */
  seed?: number;
}

/** Options of {@linkcode verify} with the LLM-judge fallback. */
export interface JudgedVerifyOptions extends VerifyOptions {
  /** The judge asked when the rules say "wrong" or "unparseable" (see `createJudge`, `judgeFromEnv`). */
  judge: Judge;
  /** The question, shown to the judge when known. */
  question?: string;
}
