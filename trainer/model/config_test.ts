import { assertEquals, assertThrows } from "@std/assert";
import {
  configFromHf,
  configToHf,
  headDim,
  type ModelPresetName,
  PRESET_NAMES,
  presetConfig,
} from "./config.ts";

Deno.test("presets: valid, vocabulary overridable, Qwen2.5-0.5B shapes", () => {
  for (const name of PRESET_NAMES) presetConfig(name);
  assertEquals(presetConfig("tiny", { vocabSize: 77 }).vocab_size, 77);
  const q = presetConfig("qwen2.5-0.5b");
  assertEquals([q.hidden_size, q.num_hidden_layers, q.num_attention_heads, q.num_key_value_heads], [
    896,
    24,
    14,
    2,
  ]);
  assertEquals(headDim(q), 64);
  assertThrows(() => presetConfig("huge" as ModelPresetName), Error, "unknown model preset");
  assertThrows(() => presetConfig("tiny", { vocabSize: 0 }), Error, "vocab_size");
});

Deno.test("configFromHf: reads a Qwen2 config.json, fills Qwen2 defaults, rejects other models", () => {
  const hf = {
    model_type: "qwen2",
    vocab_size: 10,
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    torch_dtype: "bfloat16",
  };
  const c = configFromHf(hf);
  assertEquals(c.num_key_value_heads, 2);
  assertEquals(c.rope_theta, 10000);
  assertEquals(c.tie_word_embeddings, false);
  assertThrows(() => configFromHf({ ...hf, model_type: "llama" }), Error, "llama");
  assertThrows(() => configFromHf({ ...hf, hidden_size: 9 }), Error, "divisible");
  assertThrows(() => configFromHf({ ...hf, head_dim: 2 }), Error, "head_dim");
  assertThrows(() => configFromHf({ ...hf, vocab_size: undefined }), Error, "vocab_size");
});

Deno.test("configToHf: round trip through configFromHf, with the HF metadata fields", () => {
  const c = presetConfig("small");
  const hf = configToHf(c, {
    dtype: "float16",
    architecture: "Qwen2ForCausalLM",
    extra: { eos_token_id: 3 },
  });
  assertEquals(hf.model_type, "qwen2");
  assertEquals(hf.torch_dtype, "float16");
  assertEquals(hf.eos_token_id, 3);
  assertEquals(configFromHf(hf), c);
});

const QWEN = {
  model_type: "qwen2",
  vocab_size: 10,
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  max_position_embeddings: 64,
};

Deno.test("configFromHf: the rope base from either transformers form; disagreement and scaling refused", () => {
  assertEquals(configFromHf({ ...QWEN, rope_theta: 1e6 }).rope_theta, 1e6);
  // transformers 5 writes the base inside rope_parameters only.
  const v5 = { ...QWEN, rope_parameters: { rope_theta: 1e6, rope_type: "default" } };
  assertEquals(configFromHf(v5).rope_theta, 1e6);
  assertEquals(configFromHf({ ...v5, rope_theta: 1e6, rope_scaling: null }).rope_theta, 1e6);
  assertThrows(() => configFromHf({ ...v5, rope_theta: 1e4 }), Error, "disagree");
  for (
    const scaling of [
      { rope_scaling: { type: "linear", factor: 4 } },
      { rope_scaling: { rope_type: "yarn", factor: 4, original_max_position_embeddings: 32 } },
      { rope_parameters: { rope_theta: 1e6, rope_type: "linear", factor: 2 } },
      { rope_parameters: { rope_theta: 1e6, rope_type: "dynamic", factor: 2 } },
    ]
  ) assertThrows(() => configFromHf({ ...QWEN, ...scaling }), Error, "only the default rope");
  assertThrows(
    () => configFromHf({ ...QWEN, rope_parameters: { rope_theta: 1e6, partial_rotary_factor: 0.5 } }),
    Error,
    "partial_rotary_factor",
  );
  // Back out: the top-level form, which transformers 4 and 5 both read.
  const hf = configToHf(configFromHf(v5), { dtype: "bfloat16", architecture: "Qwen2ForCausalLM" });
  assertEquals([hf.rope_theta, hf.rope_scaling, hf.torch_dtype], [1e6, null, "bfloat16"]);
});

Deno.test("configFromHf: sliding windows narrower than the context and non-SiLU activations are refused", () => {
  // Qwen2.5's own configs: the flag off (whatever the window), or a window as long as the context.
  configFromHf({ ...QWEN, use_sliding_window: false, sliding_window: 4, max_window_layers: 0 });
  configFromHf({ ...QWEN, use_sliding_window: true, sliding_window: 64, max_window_layers: 0 });
  configFromHf({ ...QWEN, use_sliding_window: true, sliding_window: 4, max_window_layers: 2 });
  configFromHf({ ...QWEN, use_sliding_window: true, sliding_window: null });
  assertThrows(
    () => configFromHf({ ...QWEN, use_sliding_window: true, sliding_window: 4, max_window_layers: 1 }),
    Error,
    "use_sliding_window",
  );
  assertThrows(
    () =>
      configFromHf({
        ...QWEN,
        use_sliding_window: true,
        sliding_window: 4,
        layer_types: ["full_attention", "sliding_attention"],
      }),
    Error,
    "window of 4 tokens",
  );
  configFromHf({ ...QWEN, use_sliding_window: true, sliding_window: 4, layer_types: ["full_attention"] });
  assertThrows(() => configFromHf({ ...QWEN, layer_types: ["chunked"] }), Error, "layer_types");
  assertThrows(() => configFromHf({ ...QWEN, hidden_act: "gelu" }), Error, 'hidden_act "gelu"');
  assertEquals(configFromHf({ ...QWEN, hidden_act: "silu", head_dim: null }).hidden_size, 8);
});
