/**
 * The ChatML prompt template (Qwen's): each message as `<|im_start|>{role}\n{content}<|im_end|>\n`, then
 * `<|im_start|>assistant\n` for the reply. `<|im_end|>` is the stop string of a chat reply.
 *
 * The template comes as segments that say which text is the template's own (control tokens allowed) and which
 * is message content (to be encoded as plain text, so that a message cannot forge a turn).
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

/** A piece of a rendered prompt: the template's own text, or content from a message. */
export interface PromptSegment {
  /** The text. */
  text: string;
  /** True for the template's text, whose special-token strings are control tokens; false for content. */
  control: boolean;
}

/** The string that starts a message in ChatML. */
export const CHATML_START = "<|im_start|>";

/** The string that ends a message in ChatML. */
export const CHATML_END = "<|im_end|>";

/** The ChatML prompt as segments, ending with the header of the assistant's reply. */
export function chatMLSegments(messages: readonly ChatMessage[]): PromptSegment[] {
  const segments: PromptSegment[] = [];
  for (const m of messages) {
    segments.push({ text: `${CHATML_START}${m.role}\n`, control: true });
    if (m.content !== "") segments.push({ text: m.content, control: false });
    segments.push({ text: `${CHATML_END}\n`, control: true });
  }
  segments.push({ text: `${CHATML_START}assistant\n`, control: true });
  return segments;
}

/** Renders messages in ChatML as one string (content and control text alike). */
export function renderChatML(messages: readonly ChatMessage[]): string {
  return chatMLSegments(messages).map((s) => s.text).join("");
}
