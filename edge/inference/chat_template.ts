/**
 * The ChatML prompt template (Qwen's): each message as `<|im_start|>{role}\n{content}<|im_end|>\n`, then
 * `<|im_start|>assistant\n` for the reply. `<|im_end|>` is the stop string of a chat reply.
 *
 * @module
 */

/** One chat message with plain-text content. */
export interface ChatMessage {
  /** `system`, `developer`, `user`, `assistant` or `tool`. */
  role: string;
  /** The message text. */
  content: string;
}

/** The string that ends a message in ChatML. */
export const CHATML_END = "<|im_end|>";

/** Renders messages in ChatML, ending with the header of the assistant's reply. */
export function renderChatML(messages: readonly ChatMessage[]): string {
  let prompt = "";
  for (const m of messages) prompt += `<|im_start|>${m.role}\n${m.content}${CHATML_END}\n`;
  return prompt + "<|im_start|>assistant\n";
}
