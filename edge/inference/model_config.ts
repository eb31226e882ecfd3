/**
 * The fields of a Hugging Face `config.json` (Qwen2 layout) that decoding with an ONNX decoder needs: the
 * shapes of the past key/value tensors, the vocabulary size, the context length and the end-of-sequence ids.
 *
 * @module
 */

import { readDecoderShape } from "../../core/hf/mod.ts";
import { eosIdList } from "../../core/tokenizer/mod.ts";

/** What the ONNX runner needs to know about a decoder. */
export interface DecoderConfig {
  /** Number of decoder layers (one past key and value per layer). */
  numLayers: number;
  /** Number of key/value heads (grouped-query attention). */
  numKvHeads: number;
  /** Size of one attention head. */
  headDim: number;
  /** Vocabulary size (the logits' last dimension). */
  vocabSize: number;
  /**
   * Ids at or above this are never sampled: the tokenizer's size when the model's vocabulary is padded past it
   * (Qwen2.5's 151936 rows for 151665 tokens). Default: `vocabSize`.
   */
  sampledVocabSize?: number;
  /** Longest sequence (prompt plus completion) the model takes. */
  contextLength: number;
  /** Token ids that end a sequence. */
  eosTokenIds: number[];
}

/**
 * Reads a parsed `config.json`: the decoder shape as `core/hf` reads it (`num_key_value_heads` defaults to the
 * number of attention heads, `head_dim` to hidden size / heads, `max_position_embeddings` to 32768) and the
 * end-of-sequence ids. Throws an Error naming the bad field.
 */
export function parseDecoderConfig(json: unknown): DecoderConfig {
  const shape = readDecoderShape(json);
  return {
    numLayers: shape.numLayers,
    numKvHeads: shape.numKvHeads,
    headDim: shape.headDim,
    vocabSize: shape.vocabSize,
    contextLength: shape.contextLength,
    eosTokenIds: eosIdList((json as Record<string, unknown>).eos_token_id, "config.json"),
  };
}
