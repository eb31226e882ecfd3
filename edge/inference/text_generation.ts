/**
 * Turns a stream of sampled token ids into text deltas: end-of-sequence ids end the text, stop strings cut it
 * (the stop string itself is never sent), and text that may be the start of a stop string is held back until
 * it is known not to be one, so a streaming client never sees part of a stop string.
 *
 * @module
 */

import { type FinishReason, stopHoldback, type StopTokens, truncateAtStop } from "../../core/sampling/mod.ts";

export type { FinishReason };

/** The whole of one generated choice. */
export interface TextGenerationResult {
  /** The text, without the end-of-sequence token or stop string. */
  text: string;
  /** Why it ended. */
  finishReason: FinishReason;
  /** Tokens sampled (an end-of-sequence token counts; tokens after a stop string are never sampled). */
  completionTokens: number;
}

/** Incremental detokenisation, as `Tokenizer.createStreamDecoder()` gives it. */
export interface StreamDecoder {
  /** Adds one token id and returns the text it completes (may be empty). */
  push(id: number): string;
  /** Returns any text still buffered. */
  flush(): string;
}

/**
 * Consumes `tokens` until an end-of-sequence id, a stop string or the end of the stream (`length`), calling
 * `onDelta` with each new piece of text in order; the concatenated deltas equal the result's `text`.
 */
export async function generateText(
  tokens: AsyncIterable<number>,
  decoder: StreamDecoder,
  endOfSequence: StopTokens,
  stops: readonly string[],
  onDelta: (text: string) => void | Promise<void>,
): Promise<TextGenerationResult> {
  let full = "";
  let emitted = 0;
  let completionTokens = 0;
  const emitTo = async (end: number) => {
    if (end <= emitted) return;
    const piece = full.slice(emitted, end);
    emitted = end;
    await onDelta(piece);
  };
  /** Emits what is safe; returns true when a stop string was found (the text is then cut before it). */
  const advance = async (final: boolean): Promise<boolean> => {
    const pending = full.slice(emitted);
    const cut = truncateAtStop(pending, stops);
    if (cut.stop !== null) {
      full = full.slice(0, emitted + cut.text.length);
      await emitTo(full.length);
      return true;
    }
    await emitTo(final ? full.length : full.length - stopHoldback(pending, stops));
    return false;
  };
  let finishReason: FinishReason = "length";
  for await (const id of tokens) {
    completionTokens++;
    if (endOfSequence.has(id)) {
      finishReason = "stop";
      break;
    }
    full += decoder.push(id);
    if (await advance(false)) return { text: full, finishReason: "stop", completionTokens };
  }
  full += decoder.flush();
  if (await advance(true)) finishReason = "stop";
  return { text: full, finishReason, completionTokens };
}
