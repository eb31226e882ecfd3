/**
 * Chat formatting with the model's own chat template: the Jinja template of its `tokenizer_config.json` (or
 * `chat_template.jinja`), rendered with `@huggingface/jinja` as transformers' `apply_chat_template` does, with a
 * generation prompt. A folder without a template gets ChatML (Qwen's), whose `<|im_end|>` then also ends a reply.
 *
 * A prompt comes as segments that say which text is the template's own (control tokens allowed) and which is
 * message content (to be encoded as plain text, so that a message cannot forge a turn): see
 * {@linkcode ChatTemplate.segments}.
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

  /**
   * The prompt for `messages` as segments: the template's own text is control text, each message's content is
   * content. Roles are template text: callers pass only roles they accept.
   *
   * The template is rendered once with each content replaced by a sentinel (a private-use character, a random
   * nonce, the message index, a second private-use character; never in the messages), and the result is cut
   * at the sentinels. When the segments, filled with the contents, give exactly {@linkcode render}'s text, they
   * are returned; a content may be filled in trimmed (Jinja's `trim`) when that is what the template wrote.
   * Otherwise the template transforms content in another way or branches on it, and the content is filled in
   * as sent between the template's text for the sentinels: the prompt then differs from `render`'s, but no
   * content is ever control text. A template that takes a sentinel apart (slices a content, changes its case) throws.
   */
  segments(messages: readonly ChatMessage[]): PromptSegment[] {
    const reference = this.render(messages);
    const marker = freshMarker(messages);
    const skeleton = this.render(
      messages.map((m, i) => ({ role: m.role, content: `${marker}${i}${SENTINEL_END}` })),
    );
    const cut = cutAtSentinels(skeleton, marker, messages.length);
    const contents = messages.map((m) => m.content);
    const segments = fillExactly(cut, contents, reference) ?? fillAsSent(cut, contents);
    return mergeSegments(segments);
  }
}

/** Opens a sentinel: a private-use code point. */
const SENTINEL_START = "\uE000";
/** Closes a sentinel's message index. */
const SENTINEL_END = "\uE001";

/** A sentinel prefix (start character and a random 64-bit nonce) that no role or content contains. */
function freshMarker(messages: readonly ChatMessage[]): string {
  for (;;) {
    const nonce = Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0"),
    );
    const marker = `${SENTINEL_START}${nonce.join("")}:`;
    if (!messages.some((m) => m.content.includes(marker) || m.role.includes(marker))) return marker;
  }
}

/** A rendered skeleton cut at its sentinels: `texts[k]`, then message `slots[k]`'s content, ..., `texts[n]`. */
interface Skeleton {
  /** The template's text between sentinels (one more than `slots`). */
  texts: string[];
  /** The message index of each sentinel, in order. */
  slots: number[];
}

/** Cuts `skeleton` at every `marker{index}` sentinel; throws when a sentinel was altered by the template. */
function cutAtSentinels(skeleton: string, marker: string, count: number): Skeleton {
  const texts: string[] = [];
  const slots: number[] = [];
  let from = 0;
  for (let at = skeleton.indexOf(marker); at !== -1; at = skeleton.indexOf(marker, from)) {
    const end = skeleton.indexOf(SENTINEL_END, at + marker.length);
    const digits = end === -1 ? "" : skeleton.slice(at + marker.length, end);
    const index = /^\d{1,9}$/.test(digits) ? Number(digits) : -1;
    if (index < 0 || index >= count) throw new Error("chat template: it alters message content it renders");
    texts.push(skeleton.slice(from, at));
    slots.push(index);
    from = end + SENTINEL_END.length;
  }
  texts.push(skeleton.slice(from));
  // Left-over sentinel characters or nonces: the template sliced or escaped a content.
  const nonce = marker.slice(SENTINEL_START.length);
  if (texts.some((t) => t.includes(SENTINEL_START) || t.includes(SENTINEL_END) || t.includes(nonce))) {
    throw new Error("chat template: it alters message content it renders");
  }
  return { texts, slots };
}

/**
 * The segments that give exactly `reference`, each content filled in as sent or trimmed (at each sentinel the
 * first form that `reference` continues with, followed by the next template text); null when there are none.
 * Linear in the length of `reference` times the (at most four) forms tried per sentinel.
 */
function fillExactly(cut: Skeleton, contents: readonly string[], reference: string): PromptSegment[] | null {
  if (!reference.startsWith(cut.texts[0])) return null;
  const segments: PromptSegment[] = [{ text: cut.texts[0], control: true }];
  let at = cut.texts[0].length;
  for (let k = 0; k < cut.slots.length; k++) {
    const content = contents[cut.slots[k]];
    const next = cut.texts[k + 1];
    const form = [content, content.trim(), content.trimStart(), content.trimEnd()].find((f) =>
      reference.startsWith(f, at) && reference.startsWith(next, at + f.length)
    );
    if (form === undefined) return null;
    segments.push({ text: form, control: false }, { text: next, control: true });
    at += form.length + next.length;
  }
  return at === reference.length ? segments : null;
}

/** The skeleton's template text with each content as sent in place of its sentinel. */
function fillAsSent(cut: Skeleton, contents: readonly string[]): PromptSegment[] {
  const segments: PromptSegment[] = [{ text: cut.texts[0], control: true }];
  cut.slots.forEach((slot, k) => {
    segments.push({ text: contents[slot], control: false }, { text: cut.texts[k + 1], control: true });
  });
  return segments;
}

/** `segments` without empty ones, neighbours of the same kind joined. */
function mergeSegments(segments: readonly PromptSegment[]): PromptSegment[] {
  const merged: PromptSegment[] = [];
  for (const s of segments) {
    if (s.text === "") continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && last.control === s.control) last.text += s.text;
    else merged.push({ ...s });
  }
  return merged;
}
