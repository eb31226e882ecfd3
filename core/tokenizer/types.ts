/**
 * The tokenizer interface every model-facing part uses, whatever the tokenizer behind it.
 *
 * @module
 */

/** Incremental decoder: text comes out only once it is complete (never half a UTF-8 character). */
export interface StreamDecoder {
  /** Adds the next token id; returns the text that became final (possibly empty). */
  push(id: number): string;
  /** Returns whatever text is still held back (an incomplete character becomes U+FFFD) and resets. */
  flush(): string;
}

/** A tokenizer: text to ids and back, with its special-token ids and a Hugging Face tokenizer.json form. */
export interface Tokenizer {
  /** Token ids of `text`; never adds BOS/EOS (prepend `bosId` yourself when a model needs it). */
  encode(text: string): Uint32Array;
  /** Text of `ids`, special tokens included. Throws on an id outside the vocabulary. */
  decode(ids: ArrayLike<number>): string;
  /** Number of ids (largest id + 1). */
  readonly vocabSize: number;
  /** Beginning-of-sequence id, or null when the tokenizer has none. */
  readonly bosId: number | null;
  /** End-of-sequence id: generation stops there. */
  readonly eosId: number;
  /** Every id that ends a sequence: `eosId` first, then any other end-of-turn ids of the model. */
  readonly stopIds: readonly number[];
  /** Padding id. */
  readonly padId: number;
  /**
   * The Hugging Face `tokenizer.json` object (JSON-serialisable) that loads back into the same tokenizer. It may
   * be frozen and shared between calls: copy it to change it.
   */
  toJSON(): unknown;
  /** A fresh incremental decoder for streaming generated tokens. */
  createStreamDecoder(): StreamDecoder;
}
