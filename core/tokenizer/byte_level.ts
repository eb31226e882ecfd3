/**
 * GPT-2's byte-level alphabet, which byte-level BPE tokenizer.json files (Qwen2.5's among them) spell their
 * vocabulary in, and Qwen2's pre-tokenizer split pattern.
 *
 * @module
 */

/** GPT-2's byte-to-character map used by byte-level BPE (printable bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const keep = new Set<number>();
  for (const [lo, hi] of [[33, 126], [161, 172], [174, 255]]) for (let b = lo; b <= hi; b++) keep.add(b);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep.has(b) ? b : 256 + n++));
}

/** Qwen2's pre-tokenizer split regex (as tokenizer.json and transformers' Qwen2Tokenizer spell it). */
export const QWEN_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** A ByteLevel pre-tokenizer / decoder / post-processor entry as Qwen2.5's tokenizer.json has it. */
export function byteLevelStep() {
  return { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
}

/** Qwen2's pre-tokenizer: the split pattern, then bytes to characters. */
export function qwenPreTokenizer() {
  return {
    type: "Sequence",
    pretokenizers: [
      { type: "Split", pattern: { Regex: QWEN_SPLIT_PATTERN }, behavior: "Isolated", invert: false },
      byteLevelStep(),
    ],
  };
}
