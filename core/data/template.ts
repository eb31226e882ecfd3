/**
 * Prompt templates: how a problem is shown to the model.
 *
 * @module
 */

import type { Problem } from "./problem.ts";

/** "plain" for the small models trained from scratch; "qwen-math" for Qwen2.5-Math-style chat models. */
export type PromptTemplate = "plain" | "qwen-math";

/** The system message of Qwen2.5-Math's chain-of-thought template. */
export const QWEN_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}.";

/**
 * The model input for `problem`. "plain": `Q: {prompt}\nA: ` (short, for tiny character-level models; the
 * solution follows directly). "qwen-math": ChatML with {@linkcode QWEN_MATH_SYSTEM} as system message, the
 * prompt as user message, and an open assistant turn. Throws on an unknown template.
 */
export function formatPrompt(problem: Pick<Problem, "prompt">, template: PromptTemplate): string {
  switch (template) {
    case "plain":
      return `Q: ${problem.prompt}\nA: `;
    case "qwen-math":
      return `<|im_start|>system\n${QWEN_MATH_SYSTEM}<|im_end|>\n<|im_start|>user\n${problem.prompt}<|im_end|>\n` +
        `<|im_start|>assistant\n`;
    default:
      throw new RangeError(`formatPrompt: unknown template "${template}" (expected "plain" or "qwen-math")`);
  }
}
