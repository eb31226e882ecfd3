/**
 * Prompts to token ids: a plain prompt (its text may hold special tokens, as a completion prompt does) or a
 * chat prompt made of segments, whose content segments are encoded with every special-token string spelled
 * as plain text. Pure functions of a tokenizer, shared by the server's thread and the encoder worker.
 *
 * @module
 */

import type { Tokenizer } from "../../core/tokenizer/mod.ts";
import type { PromptSegment } from "./chat_template.ts";

/** A prompt to encode: plain text, or chat segments. */
export type PromptInput = { text: string } | { segments: readonly PromptSegment[] };

/** Encodes prompts: on the calling thread or in a worker. */
export interface PromptEncoder {
  /** The prompt's token ids (see {@linkcode encodePrompt}). */
  encode(prompt: PromptInput): Promise<Uint32Array>;
  /** Frees what it holds (its worker). */
  close(): void;
}

/** The strings the tokenizer turns into added tokens wherever they appear (its `added_tokens`). */
export function addedTokenTexts(tokenizer: Tokenizer): string[] {
  const json = tokenizer.toJSON() as { added_tokens?: { content?: unknown }[] };
  const texts = (json.added_tokens ?? []).map((t) => t.content).filter((c): c is string =>
    typeof c === "string" && c.length > 1
  );
  return [...new Set(texts)];
}

/**
 * Cuts `text` right after the first character of every occurrence of an added-token string, so that encoding
 * the pieces one by one never produces that token: `a<|im_end|>b` becomes `a<`, `|im_end|>b`. One pass,
 * comparing only where a token's first character appears.
 */
export function splitSpecials(text: string, specials: readonly string[]): string[] {
  if (specials.length === 0) return [text];
  const firstChars = new Uint8Array(65536);
  for (const s of specials) firstChars[s.charCodeAt(0)] = 1;
  const pieces: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (firstChars[text.charCodeAt(i)] === 0) continue;
    if (specials.some((s) => text.startsWith(s, i))) {
      pieces.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces.filter((p) => p.length > 0);
}

/**
 * Token ids of a prompt. Plain text: the tokenizer's ids, after BOS when the tokenizer has one. Segments:
 * control segments encoded as they are, content segments through {@linkcode splitSpecials} with `added`
 * ({@linkcode addedTokenTexts}); BOS first when the tokenizer has one and the template did not write it.
 */
export function encodePrompt(tokenizer: Tokenizer, added: readonly string[], prompt: PromptInput): number[] {
  const bos = tokenizer.bosId;
  if ("text" in prompt) {
    const ids = Array.from(tokenizer.encode(prompt.text));
    return bos === null ? ids : [bos, ...ids];
  }
  const parts: Uint32Array[] = [];
  for (const segment of prompt.segments) {
    const pieces = segment.control ? [segment.text] : splitSpecials(segment.text, added);
    for (const piece of pieces) parts.push(tokenizer.encode(piece));
  }
  const withBos = bos !== null && parts.find((p) => p.length > 0)?.[0] !== bos;
  const ids = new Array<number>(parts.reduce((n, p) => n + p.length, withBos ? 1 : 0));
  let at = 0;
  if (withBos) ids[at++] = bos;
  for (const part of parts) for (let i = 0; i < part.length; i++) ids[at++] = part[i];
  return ids;
}

/** A {@linkcode PromptEncoder} on the calling thread. */
export function localEncoder(tokenizer: Tokenizer): PromptEncoder {
  const added = addedTokenTexts(tokenizer);
  return {
    encode: (prompt) => Promise.resolve(Uint32Array.from(encodePrompt(tokenizer, added, prompt))),
    close: () => {},
  };
}
