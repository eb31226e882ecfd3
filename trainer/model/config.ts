/**
 * Model configuration with Hugging Face Qwen2's field names, the presets (tiny CPU model to Qwen2.5-0.5B
 * shapes), validation and conversion to and from a `config.json`.
 *
 * @module
 */

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

/** Names of the built-in presets. */
export type PresetName = "tiny" | "small" | "qwen2.5-0.5b";

/** The names of the presets, for CLI validation. */
export const PRESET_NAMES: readonly PresetName[] = ["tiny", "small", "qwen2.5-0.5b"];

const PRESETS: Record<PresetName, ModelConfig> = {
  // ~0.8M parameters with a 100-symbol vocabulary: trains on one CPU core in minutes.
  tiny: {
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
export function presetConfig(name: PresetName, opts: { vocabSize?: number } = {}): ModelConfig {
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

/**
 * Reads a Hugging Face `config.json` object (Qwen2 / Qwen2.5). Fields Qwen2 defaults are filled in
 * (`rope_theta` 10000, `rms_norm_eps` 1e-6, `tie_word_embeddings` false, `num_key_value_heads` = heads).
 */
export function configFromHf(json: Record<string, unknown>): ModelConfig {
  const type = json.model_type;
  if (type !== undefined && type !== "qwen2") {
    throw new Error(`config.json: model_type "${String(type)}" is not supported (expected "qwen2")`);
  }
  const num = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback;
    if (typeof v !== "number") throw new Error(`config.json: missing numeric field "${key}"`);
    return v;
  };
  const heads = num("num_attention_heads");
  const config: ModelConfig = {
    vocab_size: num("vocab_size"),
    hidden_size: num("hidden_size"),
    intermediate_size: num("intermediate_size"),
    num_hidden_layers: num("num_hidden_layers"),
    num_attention_heads: heads,
    num_key_value_heads: num("num_key_value_heads", heads),
    rope_theta: num("rope_theta", 10000),
    rms_norm_eps: num("rms_norm_eps", 1e-6),
    tie_word_embeddings: (json.tie_word_embeddings ?? false) as boolean,
    max_position_embeddings: num("max_position_embeddings", 32768),
  };
  if (json.head_dim !== undefined && json.head_dim !== headDim(config)) {
    throw new Error(`config.json: head_dim ${json.head_dim} differs from hidden_size / heads (unsupported)`);
  }
  validateConfig(config);
  return config;
}

/** A Hugging Face `config.json` object for `config` (`model_type` "qwen2"). */
export function configToHf(
  config: ModelConfig,
  opts: { dtype: "float32" | "float16"; architecture: string; extra?: Record<string, unknown> },
): Record<string, unknown> {
  return {
    architectures: [opts.architecture],
    model_type: "qwen2",
    hidden_act: "silu",
    attention_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    use_sliding_window: false,
    ...config,
    torch_dtype: opts.dtype,
    ...opts.extra,
  };
}
