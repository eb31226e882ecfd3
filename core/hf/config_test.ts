import { assertEquals, assertThrows } from "@std/assert";
import { readDecoderShape } from "./config.ts";

const BASE = { num_hidden_layers: 2, num_attention_heads: 4, hidden_size: 64, vocab_size: 100 };

Deno.test("readDecoderShape: Qwen2Config's defaults", () => {
  assertEquals(readDecoderShape(BASE), {
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 4,
    hiddenSize: 64,
    headDim: 16,
    vocabSize: 100,
    contextLength: 32768,
  });
  const given = readDecoderShape({
    ...BASE,
    num_key_value_heads: 2,
    head_dim: 8,
    max_position_embeddings: 256,
  });
  assertEquals([given.numKvHeads, given.headDim, given.contextLength], [2, 8, 256]);
  assertEquals(readDecoderShape({ ...BASE, head_dim: null }).headDim, 16);
});

Deno.test("readDecoderShape: bad fields are named", () => {
  assertThrows(() => readDecoderShape([]), Error, "expected a JSON object");
  assertThrows(() => readDecoderShape({ ...BASE, num_hidden_layers: 0 }), Error, "num_hidden_layers");
  assertThrows(() => readDecoderShape({ ...BASE, hidden_size: 66 }), Error, "not divisible");
  assertThrows(() => readDecoderShape({ ...BASE, vocab_size: undefined }), Error, "vocab_size");
});
