/**
 * Model configuration with Hugging Face Qwen2's field names, the presets (the trained tiny CPU model to Qwen2.5-0.5B
 * shapes), validation and conversion to and from a `config.json`.
 *
 * @module
 */

import { readDecoderShape } from "../../core/hf/mod.ts";

/** The architecture hyper-parameters of a Qwen2-style decoder (Hugging Face `Qwen2Config` field names). */
export interface ModelConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  rope_theta: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  max_position_embeddings: number;
}

/** Names of the built-in model presets (the shapes; `deno task train`'s presets are `TrainPresetName`). */
export type ModelPresetName = "tiny" | "bench" | "small" | "qwen2.5-0.5b";

/** The names of the presets, for CLI validation. */
export const PRESET_NAMES: readonly ModelPresetName[] = ["tiny", "bench", "small", "qwen2.5-0.5b"];

const PRESETS: Record<ModelPresetName, ModelConfig> = {
  // 105k parameters with the character tokenizer's vocabulary: what `deno task train` trains (docs/LEARNING.md
  // measures it), small enough for a 2-core CPU, large enough to learn running sums.
  tiny: {
    vocab_size: 100,
    hidden_size: 64,
    intermediate_size: 192,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rope_theta: 10000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    max_position_embeddings: 256,
  },
  // ~0.8M parameters with a 100-symbol vocabulary: the CPU shapes that bench/cpu_bench.ts times against PyTorch
  // and the edge benchmarks serve (the figures in the README were measured on it).
  bench: {
    vocab_size: 100,
    hidden_size: 128,
    intermediate_size: 384,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rope_theta: 10000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    max_position_embeddings: 256,
  },
  // ~25M parameters (plus the embedding): a GPU model.
  small: {
    vocab_size: 100,
    hidden_size: 512,
    intermediate_size: 1408,
    num_hidden_layers: 8,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    rope_theta: 10000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    max_position_embeddings: 1024,
  },
  // The shapes of Qwen2.5-0.5B.
  "qwen2.5-0.5b": {
    vocab_size: 151936,
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    rope_theta: 1000000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    max_position_embeddings: 32768,
  },
};

/** A preset's configuration; `vocabSize` overrides the vocabulary (set it from the tokenizer). */
export function presetConfig(name: ModelPresetName, opts: { vocabSize?: number } = {}): ModelConfig {
  const base = PRESETS[name];
  if (!base) throw new Error(`unknown model preset "${name}" (known: ${PRESET_NAMES.join(", ")})`);
  const config = { ...base, vocab_size: opts.vocabSize ?? base.vocab_size };
  validateConfig(config);
  return config;
}

/** Size of one attention head. */
export function headDim(config: ModelConfig): number {
  return config.hidden_size / config.num_attention_heads;
}

function positiveInt(config: ModelConfig, key: keyof ModelConfig): void {
  const v = config[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new Error(`model config: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

/** Throws a descriptive error unless `config` describes a buildable model. */
export function validateConfig(config: ModelConfig): void {
  for (
    const key of [
      "vocab_size",
      "hidden_size",
      "intermediate_size",
      "num_hidden_layers",
      "num_attention_heads",
      "num_key_value_heads",
      "max_position_embeddings",
    ] as const
  ) positiveInt(config, key);
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(
      `model config: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`,
    );
  }
  if (headDim(config) % 2 !== 0) {
    throw new Error(`model config: head dimension ${headDim(config)} must be even`);
  }
  if (config.num_attention_heads % config.num_key_value_heads !== 0) {
    throw new Error(
      `model config: num_attention_heads ${config.num_attention_heads} is not a multiple of num_key_value_heads ${config.num_key_value_heads}`,
    );
  }
  if (!(config.rope_theta > 0)) {
    throw new Error(`model config: rope_theta must be > 0, got ${config.rope_theta}`);
  }
  if (!(config.rms_norm_eps > 0)) {
    throw new Error(`model config: rms_norm_eps must be > 0, got ${config.rms_norm_eps}`);
  }
  if (typeof config.tie_word_embeddings !== "boolean") {
    throw new Error("model config: tie_word_embeddings must be a boolean");
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The rope base of a config.json: the top-level `rope_theta` (transformers 4) or `rope_parameters.rope_theta`
 * (transformers 5), 10000 when neither is there. Throws when the two disagree, or when either form (or the older
 * `rope_scaling`) asks for a rope type other than "default" (linear, dynamic, yarn, llama3, ...), which would
 * change the positions' maths.
 */
function ropeTheta(json: Json): number {
  const top = json.rope_theta;
  const params = json.rope_parameters;
  if (params !== undefined && params !== null && !isObject(params)) {
    throw new Error("config.json: rope_parameters must be an object");
  }
  for (const [field, value] of [["rope_parameters", params], ["rope_scaling", json.rope_scaling]] as const) {
    if (value === undefined || value === null) continue;
    if (!isObject(value)) throw new Error(`config.json: ${field} must be an object or null`);
    const type = value.rope_type ?? value.type ?? "default";
    if (type !== "default") {
      throw new Error(
        `config.json: ${field} asks for rope type "${String(type)}"; only the default rope is supported ` +
          `(remove the scaling, or use a model without it)`,
      );
    }
    const partial = value.partial_rotary_factor;
    if (partial !== undefined && partial !== 1) {
      throw new Error(`config.json: ${field}.partial_rotary_factor ${String(partial)} is not supported`);
    }
  }
  const nested = isObject(params) ? params.rope_theta : undefined;
  if (top !== undefined && nested !== undefined && top !== nested) {
    throw new Error(
      `config.json: rope_theta ${String(top)} and rope_parameters.rope_theta ${String(nested)} disagree`,
    );
  }
  const theta = top ?? nested ?? 10000;
  if (typeof theta !== "number") throw new Error(`config.json: rope_theta must be a number`);
  return theta;
}

/**
 * Throws unless every attention layer sees the whole context: Qwen2 slides a window over the layers from
 * `max_window_layers` on (or those `layer_types` marks "sliding_attention") when `use_sliding_window` is true,
 * and a window shorter than `max_position_embeddings` would change the model's outputs.
 */
function checkFullAttention(json: Json, layers: number, context: number): void {
  const types = json.layer_types;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.some((t) => t !== "full_attention" && t !== "sliding_attention")) {
      throw new Error(`config.json: layer_types must list "full_attention" or "sliding_attention"`);
    }
  }
  if (json.use_sliding_window !== true) return;
  const window = json.sliding_window;
  if (window === null || window === undefined) return;
  if (typeof window !== "number") throw new Error("config.json: sliding_window must be a number or null");
  const sliding = Array.isArray(types)
    ? types.includes("sliding_attention")
    : typeof json.max_window_layers === "number"
    ? json.max_window_layers < layers
    : true;
  if (sliding && window < context) {
    throw new Error(
      `config.json: use_sliding_window with a window of ${window} tokens (context ${context}) is not supported; ` +
        `only full attention is`,
    );
  }
}

/**
 * Reads a Hugging Face `config.json` object (Qwen2 / Qwen2.5, saved by transformers 4 or 5): its shape as
 * `readDecoderShape` (core/hf) reads it for the edge server too, and the rest. Fields Qwen2
 * defaults are filled in (`rope_theta` 10000, `rms_norm_eps` 1e-6, `tie_word_embeddings` false,
 * `num_key_value_heads` = heads, `max_position_embeddings` 32768). Fields that would change the maths in ways
 * this model does not implement are refused with an error naming them: rope scaling of any type but "default",
 * sliding-window attention narrower than the context, an activation other than SiLU, and a `head_dim` other
 * than hidden_size / heads.
 */
export function configFromHf(json: Record<string, unknown>): ModelConfig {
  const type = json.model_type;
  if (type !== undefined && type !== "qwen2") {
    throw new Error(`config.json: model_type "${String(type)}" is not supported (expected "qwen2")`);
  }
  const shape = readDecoderShape(json);
  const num = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback;
    if (typeof v !== "number") throw new Error(`config.json: missing numeric field "${key}"`);
    return v;
  };
  const act = json.hidden_act ?? "silu";
  if (act !== "silu") {
    throw new Error(`config.json: hidden_act "${String(act)}" is not supported (only "silu")`);
  }
  const config: ModelConfig = {
    vocab_size: shape.vocabSize,
    hidden_size: shape.hiddenSize,
    intermediate_size: num("intermediate_size"),
    num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads,
    num_key_value_heads: shape.numKvHeads,
    rope_theta: ropeTheta(json),
    rms_norm_eps: num("rms_norm_eps", 1e-6),
    tie_word_embeddings: (json.tie_word_embeddings ?? false) as boolean,
    max_position_embeddings: shape.contextLength,
  };
  if (shape.headDim !== headDim(config)) {
    throw new Error(`config.json: head_dim ${shape.headDim} differs from hidden_size / heads (unsupported)`);
  }
  validateConfig(config);
  checkFullAttention(json, config.num_hidden_layers, config.max_position_embeddings);
  return config;
}

/** Storage types a checkpoint's weights can be written in, as `config.json` names them. */
export type HfDtype = "float32" | "float16" | "bfloat16";

/** A Hugging Face `config.json` object for `config` (`model_type` "qwen2", the top-level `rope_theta`). */
export function configToHf(
  config: ModelConfig,
  opts: { dtype: HfDtype; architecture: string; extra?: Record<string, unknown> },
): Record<string, unknown> {
  // The top-level rope_theta (transformers 4's form) is read by transformers 4 and 5 alike; rope_scaling null
  // and no sliding window say explicitly that neither applies. transformers_version names the layout followed
  // (without it, transformers 5 warns that a local tokenizer may have Mistral's broken split pattern).
  return {
    architectures: [opts.architecture],
    model_type: "qwen2",
    hidden_act: "silu",
    attention_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: config.num_hidden_layers,
    rope_scaling: null,
    ...config,
    torch_dtype: opts.dtype,
    transformers_version: "4.57.6",
    ...opts.extra,
  };
}
