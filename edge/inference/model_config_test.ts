import { assertEquals, assertThrows } from "@std/assert";
import { parseDecoderConfig } from "./model_config.ts";

const QWEN2_05B = {
  hidden_size: 896,
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  vocab_size: 151936,
  max_position_embeddings: 32768,
  eos_token_id: 151643,
};

Deno.test("parseDecoderConfig: reads a Qwen2 config", () => {
  assertEquals(parseDecoderConfig(QWEN2_05B), {
    numLayers: 24,
    numKvHeads: 2,
    headDim: 64,
    vocabSize: 151936,
    contextLength: 32768,
    eosTokenIds: [151643],
  });
});

Deno.test("parseDecoderConfig: defaults and lists of eos ids", () => {
  const c = parseDecoderConfig({
    hidden_size: 8,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    vocab_size: 10,
    eos_token_id: [1, 2],
    head_dim: 3,
  });
  assertEquals(c, {
    numLayers: 1,
    numKvHeads: 2,
    headDim: 3,
    vocabSize: 10,
    contextLength: 32768,
    eosTokenIds: [1, 2],
  });
});

Deno.test("parseDecoderConfig: bad fields are named", () => {
  assertThrows(() => parseDecoderConfig([]), Error, "expected a JSON object");
  assertThrows(() => parseDecoderConfig({ ...QWEN2_05B, num_hidden_layers: 0 }), Error, "num_hidden_layers");
  assertThrows(() => parseDecoderConfig({ ...QWEN2_05B, hidden_size: 900 }), Error, "not divisible");
  assertThrows(() => parseDecoderConfig({ ...QWEN2_05B, eos_token_id: "x" }), Error, "eos_token_id");
  assertThrows(() => parseDecoderConfig({ ...QWEN2_05B, vocab_size: undefined }), Error, "vocab_size");
});
