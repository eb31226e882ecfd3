/**
 * Test and bench helpers: small Qwen2.5-style byte-level BPE tokenizer.json documents built in memory, so
 * tests and benchmarks exercise the Hugging Face path without a downloaded tokenizer.
 *
 * @module
 */

import { byteLevelStep, bytesToUnicode, qwenPreTokenizer } from "./byte_level.ts";
import { specialAddedToken } from "./char.ts";

export { bytesToUnicode };

/** Options of {@linkcode byteLevelBpeJson}. */
export interface ByteLevelBpeJsonOptions {
  /** Merges, in priority order, over {@linkcode bytesToUnicode} characters. */
  merges: readonly (readonly [string, string])[];
  /** Special (added) tokens, numbered after the vocabulary. */
  specials: readonly string[];
  /** Write the merges as "a b" strings (the older tokenizer.json form) instead of pairs. Default false. */
  mergesAsStrings?: boolean;
}

/**
 * A Qwen2.5-style tokenizer.json: NFC, the split regex then byte level, and a BPE model whose vocabulary is the
 * 256 byte characters followed by one token per merge (in order), then the special tokens.
 */
export function byteLevelBpeJson(options: ByteLevelBpeJsonOptions) {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((ch, i) => (vocab[ch] = i));
  for (const [a, b] of options.merges) vocab[a + b] = Object.keys(vocab).length;
  const first = Object.keys(vocab).length;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: options.specials.map((content, i) => specialAddedToken(first + i, content)),
    normalizer: { type: "NFC" },
    pre_tokenizer: qwenPreTokenizer(),
    post_processor: byteLevelStep(),
    decoder: byteLevelStep(),
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: options.mergesAsStrings ? options.merges.map((m) => m.join(" ")) : options.merges,
    },
  };
}
