/**
 * Tokenizers behind one interface: the character tokenizer of the small models and any Hugging Face
 * tokenizer.json, with streaming-safe incremental decoding.
 *
 * @module
 */

export type { StreamDecoder, Tokenizer } from "./types.ts";
export { CHAR_SPECIAL_TOKENS, type CharTokenizerOptions, createCharTokenizer } from "./char.ts";
export { type TokenizerConfig, tokenizerFromJson } from "./hf.ts";
export { streamDecoderFrom } from "./stream.ts";
export { tokenizerConfigFor } from "./config.ts";
export { eosIdList, type FolderTokenizer, type TokenizerFiles, tokenizerFromFiles } from "./files.ts";
