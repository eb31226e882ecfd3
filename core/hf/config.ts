/**
 * The decoder shape of a Hugging Face `config.json` (Qwen2 layout), read the same way by the trainer (which
 * builds the model from it) and the edge server (which sizes the ONNX decoder's key/value tensors).
 *
 * @module
 */

/** The shape fields of a `config.json`, with Qwen2Config's defaults filled in. */
export interface DecoderShape {
  numLayers: number;
  numHeads: number;
  /** `num_key_value_heads`; default: `numHeads` (no grouped-query attention). */
  numKvHeads: number;
  hiddenSize: number;
  /** `head_dim`; default: hidden size / heads. */
  headDim: number;
  vocabSize: number;
  /** `max_position_embeddings`; default 32768, as Qwen2Config. */
  contextLength: number;
}

/** Qwen2Config's `max_position_embeddings` when a `config.json` leaves it out. */
export const DEFAULT_CONTEXT_LENGTH = 32768;

function positiveInt(obj: Record<string, unknown>, key: string): number {
  const value = obj[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Reads the decoder shape of a parsed `config.json`. `num_hidden_layers`, `num_attention_heads`, `hidden_size`
 * and `vocab_size` are required. Throws an Error naming the bad field.
 */
export function readDecoderShape(json: unknown): DecoderShape {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("config.json: expected a JSON object");
  }
  const obj = json as Record<string, unknown>;
  const numHeads = positiveInt(obj, "num_attention_heads");
  const hiddenSize = positiveInt(obj, "hidden_size");
  const given = (key: string) => obj[key] !== undefined && obj[key] !== null;
  let headDim: number;
  if (given("head_dim")) headDim = positiveInt(obj, "head_dim");
  else if (hiddenSize % numHeads === 0) headDim = hiddenSize / numHeads;
  else {
    throw new Error(
      `config.json: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`,
    );
  }
  return {
    numLayers: positiveInt(obj, "num_hidden_layers"),
    numHeads,
    numKvHeads: given("num_key_value_heads") ? positiveInt(obj, "num_key_value_heads") : numHeads,
    hiddenSize,
    headDim,
    vocabSize: positiveInt(obj, "vocab_size"),
    contextLength: given("max_position_embeddings")
      ? positiveInt(obj, "max_position_embeddings")
      : DEFAULT_CONTEXT_LENGTH,
  };
}
