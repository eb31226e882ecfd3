/**
 * Streaming-safe incremental decoding for any tokenizer whose tokens may hold partial UTF-8 characters (byte-level
 * BPE) or whose decoder depends on context (e.g. leading-space rules).
 *
 * @module
 */

import type { StreamDecoder } from "./types.ts";

/**
 * Wraps a whole-sequence `decode` into a {@linkcode StreamDecoder}: each push decodes a short window of recent ids
 * and emits the new text only when it does not end in U+FFFD (an incomplete character), the prefix-offset scheme of
 * Hugging Face's text-generation-inference.
 */
export function streamDecoderFrom(decode: (ids: number[]) => string): StreamDecoder {
  let ids: number[] = [];
  let prefixOffset = 0;
  let readOffset = 0;
  const pending = (): string => {
    const prefix = decode(ids.slice(prefixOffset, readOffset));
    const full = decode(ids.slice(prefixOffset));
    return full.length > prefix.length && full.startsWith(prefix) ? full.slice(prefix.length) : "";
  };
  return {
    push(id: number): string {
      ids.push(id);
      const text = pending();
      if (text === "" || text.endsWith("\uFFFD")) return "";
      ids = ids.slice(readOffset);
      prefixOffset = 0;
      readOffset = ids.length;
      return text;
    },
    flush(): string {
      const text = pending();
      ids = [];
      prefixOffset = 0;
      readOffset = 0;
      return text;
    },
  };
}
