/**
 * The problem record every part of the project passes around: generated or read from a dataset.
 *
 * @module
 */

import type { AnswerForm } from "../verify/mod.ts";

/** One maths problem with its gold answer. */
export interface Problem {
  /** Stable identifier: the same problem always gets the same id (generated sets may repeat a problem). */
  id: string;
  /** The question, as shown to the model (before the prompt template). */
  prompt: string;
  /** The gold final answer in LaTeX (what a correct `\boxed{}` must be equivalent to). */
  gold: string;
  /** A worked solution ending in `\boxed{gold}`, when the source has one. */
  solution?: string;
  /**
   * The worked solution cut into its steps (they concatenate to `solution`), for generated families whose
   * every step follows from the ones before: `chainDeparture` locates a response's first wrong step.
   */
  chain?: string[];
  /** Where it came from: a generator family ("gen/addition") or a dataset file name ("gsm8k_test"). */
  source: string;
  /** Difficulty level, for generated problems (1 = easiest). */
  level?: number;
  /** The form the answer must take when an equal value is not enough ("factor completely": `factored`). */
  form?: AnswerForm;
}
