import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import onnxProto from "onnx-proto";
import { rope } from "../gpu/cpu/testing.ts";
import { createRng } from "../../core/random/mod.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { saveCheckpoint } from "./checkpoint.ts";
import { randomTestModel, TEST_CONFIG } from "./decode_testing.ts";
import {
  exportCheckpointOnnx,
  exportModelOnnx,
  exportOnnx,
  ONNX_OPSET,
  qwen2WeightShapes,
  rotaryTables,
} from "./onnx_export.ts";

const { onnx } = onnxProto;

function randomWeights(config = TEST_CONFIG): Map<string, Float32Array> {
  const rng = createRng(2);
  const w = new Map<string, Float32Array>();
  for (const [name, shape] of qwen2WeightShapes(config)) {
    w.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.nextNormal()));
  }
  return w;
}

Deno.test("the exported graph has the Optimum decoder inputs and outputs and HF-named weights", () => {
  const weights = randomWeights();
  const model = onnx.ModelProto.decode(exportOnnx(TEST_CONFIG, weights, { producer: "test" }));
  assertEquals(model.producerName, "test");
  assertEquals(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [["", ONNX_OPSET]]);
  const g = model.graph as onnxProto.onnx.GraphProto;
  const kv = (prefix: string) => [0, 1].flatMap((l) => [`${prefix}.${l}.key`, `${prefix}.${l}.value`]);
  assertEquals(g.input.map((i) => i.name), [
    "input_ids",
    "attention_mask",
    "position_ids",
    ...kv("past_key_values"),
  ]);
  assertEquals(g.output.map((o) => o.name), ["logits", ...kv("present")]);
  const dims = (v: onnxProto.onnx.IValueInfoProto) =>
    v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  assertEquals(dims(g.input[0]), ["batch_size", "sequence_length"]);
  const kvHeads = TEST_CONFIG.num_key_value_heads,
    d = TEST_CONFIG.hidden_size / TEST_CONFIG.num_attention_heads;
  assertEquals(dims(g.input[3]), ["batch_size", kvHeads, "past_sequence_length", d]);
  assertEquals(dims(g.output[0]), ["batch_size", "sequence_length", TEST_CONFIG.vocab_size]);
  assertEquals(dims(g.output[1]), ["batch_size", kvHeads, "total_sequence_length", d]);
  // Every HF weight is an initializer of the right shape holding exactly its values; no lm_head when tied.
  const inits = new Map(g.initializer.map((t) => [t.name!, t]));
  for (const [name, shape] of qwen2WeightShapes(TEST_CONFIG)) {
    const t = inits.get(name);
    if (!t) throw new Error(`missing initializer ${name}`);
    assertEquals(t.dims!.map(Number), shape);
    const raw = t.rawData!;
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    assertEquals(values, weights.get(name));
  }
  assert(!inits.has("lm_head.weight"));
  // Only standard operators (the default domain).
  assert(g.node.every((n) => !n.domain));
  assert(!g.node.some((n) => n.opType === "SimplifiedLayerNormalization"));
});

Deno.test("exportOnnx rejects missing or mis-sized weights and bad configs", () => {
  const weights = randomWeights();
  const missing = new Map(weights);
  missing.delete("model.layers.1.mlp.up_proj.weight");
  assertThrows(
    () => exportOnnx(TEST_CONFIG, missing),
    Error,
    "missing weight model.layers.1.mlp.up_proj.weight",
  );
  const short = new Map(weights);
  short.set("model.norm.weight", new Float32Array(3));
  assertThrows(() => exportOnnx(TEST_CONFIG, short), RangeError, "model.norm.weight has 3 values");
  assertThrows(() => exportOnnx({ ...TEST_CONFIG, num_key_value_heads: 3 }, weights), Error, "multiple");
  assertThrows(() => exportOnnx(TEST_CONFIG, weights, { maxPositions: 0 }), RangeError, "maxPositions");
  // A record works as well as a map; an untied head needs lm_head.weight.
  assert(exportOnnx(TEST_CONFIG, Object.fromEntries(weights)).length > 0);
  assertThrows(
    () => exportOnnx({ ...TEST_CONFIG, tie_word_embeddings: false }, weights),
    Error,
    "lm_head.weight",
  );
});

Deno.test("rotary tables reproduce the CPU backend's rope", () => {
  const headDim = 8, positions = 50, theta = 10000;
  const { cos, sin } = rotaryTables(positions, headDim, theta);
  const rng = createRng(3);
  const x = Float32Array.from({ length: positions * headDim }, () => rng.nextNormal());
  const ref = x.slice();
  rope(ref, Int32Array.from({ length: positions }, (_, i) => i), positions, 1, headDim, theta, false);
  const half = headDim / 2;
  for (let p = 0; p < positions; p++) {
    for (let j = 0; j < headDim; j++) {
      const o = p * headDim;
      const rotated = j < half ? -x[o + j + half] : x[o + j - half];
      assertAlmostEquals(x[o + j] * cos[o + j] + rotated * sin[o + j], ref[o + j], 1e-5);
    }
  }
});

Deno.test("a saved checkpoint exports to the same ONNX bytes as the live model", async () => {
  const { model } = randomTestModel(createCpuBackend());
  const dir = await Deno.makeTempDir();
  try {
    await saveCheckpoint(dir, model);
    assertEquals(await exportCheckpointOnnx(dir, undefined, { maxPositions: 64 }), ["model.onnx"]);
    const bytes = await Deno.readFile(`${dir}/model.onnx`);
    assertEquals(bytes, await exportModelOnnx(model, { maxPositions: 64 }));
  } finally {
    await Deno.remove(dir, { recursive: true });
    model.dispose();
  }
});
