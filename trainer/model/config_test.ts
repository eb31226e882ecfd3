import { assertEquals, assertThrows } from "@std/assert";
import { configFromHf, configToHf, headDim, PRESET_NAMES, presetConfig, type PresetName } from "./config.ts";

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
  assertThrows(() => presetConfig("huge" as PresetName), Error, "unknown model preset");
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
