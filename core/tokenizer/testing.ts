/**
 * Test and bench helpers: small Qwen2.5-style byte-level BPE tokenizer.json documents built in memory, so
 * tests and benchmarks exercise the Hugging Face path without a downloaded tokenizer.
 *
 * @module
 */

import { specialAddedToken } from "./char.ts";

/** GPT-2's byte-to-character map used by byte-level BPE (printable bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const keep = new Set<number>();
  for (const [lo, hi] of [[33, 126], [161, 172], [174, 255]]) for (let b = lo; b <= hi; b++) keep.add(b);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep.has(b) ? b : 256 + n++));
}

/** Qwen2.5's pre-tokenizer split regex. */
const QWEN_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

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
  const byteLevel = () => ({
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: false,
    use_regex: false,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: options.specials.map((content, i) => specialAddedToken(first + i, content)),
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: QWEN_SPLIT }, behavior: "Isolated", invert: false },
        byteLevel(),
      ],
    },
    post_processor: byteLevel(),
    decoder: byteLevel(),
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
