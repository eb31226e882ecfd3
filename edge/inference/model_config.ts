/**
 * The fields of a Hugging Face `config.json` (Qwen2 layout) that decoding with an ONNX decoder needs: the
 * shapes of the past key/value tensors, the vocabulary size, the context length and the end-of-sequence ids.
 *
 * @module
 */

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

function positiveInt(obj: Record<string, unknown>, key: string): number {
  const value = obj[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Reads a parsed `config.json`. `num_hidden_layers`, `num_attention_heads`, `hidden_size` and `vocab_size` are
 * required; `num_key_value_heads` defaults to the number of attention heads, `head_dim` to hidden size / heads,
 * `max_position_embeddings` to 2048. Throws an Error naming the bad field.
 */
export function parseDecoderConfig(json: unknown): DecoderConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("config.json: expected a JSON object");
  }
  const obj = json as Record<string, unknown>;
  const numLayers = positiveInt(obj, "num_hidden_layers");
  const numHeads = positiveInt(obj, "num_attention_heads");
  const hidden = positiveInt(obj, "hidden_size");
  const numKvHeads = obj.num_key_value_heads === undefined
    ? numHeads
    : positiveInt(obj, "num_key_value_heads");
  let headDim: number;
  if (obj.head_dim !== undefined) headDim = positiveInt(obj, "head_dim");
  else if (hidden % numHeads === 0) headDim = hidden / numHeads;
  else {throw new Error(
      `config.json: hidden_size ${hidden} is not divisible by num_attention_heads ${numHeads}`,
    );}
  const contextLength = obj.max_position_embeddings === undefined
    ? 2048
    : positiveInt(obj, "max_position_embeddings");
  return {
    numLayers,
    numKvHeads,
    headDim,
    vocabSize: positiveInt(obj, "vocab_size"),
    contextLength,
    eosTokenIds: eosIdList(obj.eos_token_id, "config.json"),
  };
}
