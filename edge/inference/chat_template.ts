/**
 * Chat formatting with the model's own chat template: the Jinja template of its `tokenizer_config.json` (or
 * `chat_template.jinja`), rendered with `@huggingface/jinja` as transformers' `apply_chat_template` does, with a
 * generation prompt. A folder without a template gets ChatML (Qwen's), whose `<|im_end|>` then also ends a reply.
 *
 * @module
 */

import { Template } from "@huggingface/jinja";
import { chatMLTemplate } from "../../core/data/mod.ts";
import type { Tokenizer } from "../../core/tokenizer/mod.ts";

/** One chat message with plain-text content. */
export interface ChatMessage {
  /** `system`, `developer`, `user`, `assistant` or `tool`. */
  role: string;
  /** The message text. */
  content: string;
}

/** The string that ends a message in ChatML. */
export const CHATML_END = "<|im_end|>";

/** A model's chat template, parsed once. */
export class ChatTemplate {
  /** Stop strings a reply ends at besides the model's stop tokens (ChatML's end for the fallback template). */
  readonly stops: readonly string[];
  readonly #template: Template;
  readonly #eos: string;
  readonly #bos: string;

  /**
   * Parses `source` (null: ChatML) for a model with `tokenizer` (whose EOS and BOS texts the template may use);
   * throws an Error when it is not a template `@huggingface/jinja` reads.
   */
  constructor(source: string | null, tokenizer: Pick<Tokenizer, "decode" | "eosId" | "bosId">) {
    try {
      this.#template = new Template(source ?? chatMLTemplate());
    } catch (err) {
      throw new Error(`chat template: ${err instanceof Error ? err.message : err}`);
    }
    this.stops = source === null ? [CHATML_END] : [];
    this.#eos = tokenizer.decode([tokenizer.eosId]);
    this.#bos = tokenizer.bosId === null ? "" : tokenizer.decode([tokenizer.bosId]);
  }

  /** The prompt for `messages`, ending with the header of the assistant's reply. Throws when the template does. */
  render(messages: readonly ChatMessage[]): string {
    return this.#template.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: true,
      eos_token: this.#eos,
      bos_token: this.#bos,
    });
  }
}
