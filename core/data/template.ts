/**
 * Prompt templates: how a problem is shown to the model, and the same template as a Hugging Face chat template
 * (Jinja, for `tokenizer_config.json`), so that a checkpoint records how its model was prompted and a server
 * formats chat requests the way the model was trained.
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

/** A string as a single-quoted Jinja literal. */
function jinjaString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\n", "\\n")}'`;
}

/**
 * ChatML, as Qwen's chat models use it: each message as `<|im_start|>{role}\n{content}<|im_end|>\n`, then
 * `<|im_start|>assistant\n` when a generation prompt is asked for. With `defaultSystem`, a conversation that
 * does not start with a system message gets that one first.
 */
export function chatMLTemplate(defaultSystem?: string): string {
  const system = defaultSystem === undefined ? "" : `{%- if messages[0]['role'] != 'system' %}` +
    `{{- '<|im_start|>system\\n' + ${jinjaString(defaultSystem)} + '<|im_end|>\\n' }}{%- endif %}`;
  return system +
    `{%- for message in messages %}` +
    `{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}` +
    `{%- endfor %}` +
    `{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}`;
}

/**
 * The Hugging Face chat template (Jinja) of each prompt template: rendering `[{role: "user", content: prompt}]`
 * with `add_generation_prompt` gives exactly {@linkcode formatPrompt}'s text. "plain" writes a user turn as
 * `Q: {content}\nA: `, an assistant turn as its content and the EOS token (as SFT trains it), and any other
 * message as its content and a newline. "qwen-math" is ChatML with {@linkcode QWEN_MATH_SYSTEM} as the default
 * system message.
 */
export const CHAT_TEMPLATES: Readonly<Record<PromptTemplate, string>> = {
  plain: `{%- for message in messages %}` +
    `{%- if message['role'] == 'user' %}{{- 'Q: ' + message['content'] + '\\nA: ' }}` +
    `{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}` +
    `{%- else %}{{- message['content'] + '\\n' }}{%- endif %}` +
    `{%- endfor %}`,
  "qwen-math": chatMLTemplate(QWEN_MATH_SYSTEM),
};
