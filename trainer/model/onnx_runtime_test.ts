// Runs exported models in onnxruntime-web (wasm provider) and compares their logits with the model's forward pass.
import { assert, assertEquals } from "@std/assert";
import * as ort from "onnxruntime-web/all";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import type { ModelConfig } from "./config.ts";
import { fullLogits, randomTestModel, TEST_CONFIG } from "./decode_testing.ts";
import { exportModelOnnx, exportOnnx, ONNX_EXTERNAL_DATA, writeOnnx } from "./onnx_export.ts";

ort.env.wasm.numThreads = 1;

const TOLERANCE = 1e-4;

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor("int64", BigInt64Array.from(values, (x) => BigInt(x)), dims);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/**
 * Two left-padded prompts (the Optimum / transformers convention): prefill without a past, then one step with
 * the returned presents as past_key_values. Every real position's logits must match our forward pass.
 */
async function checkAgainstForward(config: ModelConfig, fromModel: boolean): Promise<void> {
  const { model, weights } = randomTestModel(createCpuBackend(), config, 5);
  const bytes = fromModel ? await exportModelOnnx(model) : exportOnnx(config, weights);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  try {
    const v = config.vocab_size, layers = config.num_hidden_layers;
    const kv = config.num_key_value_heads, d = config.hidden_size / config.num_attention_heads;
    const prompts = [[4, 8, 15, 16, 23, 30], [1, 2, 3, 5]];
    const next = [7, 11];
    const width = 6;
    const ids: number[] = [], mask: number[] = [], pos: number[] = [];
    for (const p of prompts) {
      const pad = width - p.length;
      ids.push(...new Array(pad).fill(0), ...p);
      mask.push(...new Array(pad).fill(0), ...p.map(() => 1));
      pos.push(...new Array(pad).fill(1), ...p.map((_, i) => i));
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [2, width]),
      attention_mask: int64(mask, [2, width]),
      position_ids: int64(pos, [2, width]),
    };
    for (let l = 0; l < layers; l++) {
      for (const kind of ["key", "value"]) {
        feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [2, kv, 0, d]);
      }
    }
    const prefill = await session.run(feeds);
    assertEquals(prefill.logits.dims, [2, width, v]);
    assertEquals(prefill["present.0.key"].dims, [2, kv, width, d]);
    const onnxPrefill = prefill.logits.data as Float32Array;

    const step: Record<string, ort.Tensor> = {
      input_ids: int64(next, [2, 1]),
      attention_mask: int64(
        prompts.flatMap((p) => [...new Array(width - p.length).fill(0), ...p.map(() => 1), 1]),
        [2, width + 1],
      ),
      position_ids: int64(prompts.map((p) => p.length), [2, 1]),
    };
    for (let l = 0; l < layers; l++) {
      for (const kind of ["key", "value"]) {
        step[`past_key_values.${l}.${kind}`] = prefill[`present.${l}.${kind}`];
      }
    }
    const stepped = await session.run(step);
    assertEquals(stepped.logits.dims, [2, 1, v]);
    assertEquals(stepped[`present.${layers - 1}.value`].dims, [2, kv, width + 1, d]);
    const onnxStep = stepped.logits.data as Float32Array;

    for (let b = 0; b < 2; b++) {
      const p = prompts[b], pad = width - p.length;
      const ours = await fullLogits(model, [...p, next[b]]);
      const theirs = onnxPrefill.subarray((b * width + pad) * v, (b + 1) * width * v);
      const prefillDiff = maxAbsDiff(ours.subarray(0, p.length * v), theirs);
      assert(prefillDiff <= TOLERANCE, `prompt ${b} prefill logits differ by ${prefillDiff}`);
      const stepDiff = maxAbsDiff(ours.subarray(p.length * v), onnxStep.subarray(b * v, (b + 1) * v));
      assert(stepDiff <= TOLERANCE, `prompt ${b} step logits differ by ${stepDiff}`);
      // The comparison means something only if the logits are not all alike.
      let spread = 0;
      for (let i = 0; i < v; i++) spread = Math.max(spread, Math.abs(ours[i] - ours[0]));
      assert(spread > 0.5, `logits too flat (${spread}) for a meaningful comparison`);
    }
  } finally {
    await session.release();
    model.dispose();
  }
}

Deno.test("onnxruntime-web (wasm) logits match the forward pass: GQA, tied head, prefill and past", async () => {
  await checkAgainstForward(TEST_CONFIG, true);
});

Deno.test("onnxruntime-web (wasm) logits match the forward pass: untied head, no grouping", async () => {
  await checkAgainstForward({
    ...TEST_CONFIG,
    num_key_value_heads: 4,
    tie_word_embeddings: false,
    num_hidden_layers: 1,
    rope_theta: 1e6,
  }, false);
});

Deno.test("writeOnnx: weights over the threshold go to model.onnx_data; onnxruntime gives the same logits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onnx_external_" });
  const { model, weights } = randomTestModel(createCpuBackend(), TEST_CONFIG, 7);
  try {
    assertEquals(await writeOnnx(dir, TEST_CONFIG, weights), ["model.onnx"]);
    const inline = await Deno.readFile(`${dir}/model.onnx`);
    // A threshold of 1 KiB stands in for protobuf's 2 GiB, so that the test stays small.
    assertEquals(await writeOnnx(dir, TEST_CONFIG, weights, { externalDataThreshold: 1024 }), [
      "model.onnx",
      ONNX_EXTERNAL_DATA,
    ]);
    const small = await Deno.readFile(`${dir}/model.onnx`);
    const data = await Deno.readFile(`${dir}/${ONNX_EXTERNAL_DATA}`);
    assert(small.length < 20_000 && inline.length > data.length / 2, `${small.length} / ${data.length}`);
    const ids = [3, 1, 4, 1, 5, 9];
    const run = async (session: ort.InferenceSession) => {
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64(ids, [1, ids.length]),
        attention_mask: int64(ids.map(() => 1), [1, ids.length]),
        position_ids: int64(ids.map((_, i) => i), [1, ids.length]),
      };
      const kv = TEST_CONFIG.num_key_value_heads,
        d = TEST_CONFIG.hidden_size / TEST_CONFIG.num_attention_heads;
      for (let l = 0; l < TEST_CONFIG.num_hidden_layers; l++) {
        for (const kind of ["key", "value"]) {
          feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
            1,
            kv,
            0,
            d,
          ]);
        }
      }
      const out = (await session.run(feeds)).logits.data as Float32Array;
      await session.release();
      return out;
    };
    const want = await run(await ort.InferenceSession.create(inline, { executionProviders: ["wasm"] }));
    const got = await run(
      await ort.InferenceSession.create(small, {
        executionProviders: ["wasm"],
        externalData: [{ path: ONNX_EXTERNAL_DATA, data }],
      }),
    );
    assertEquals(got, want);
    // Writing a small model again removes the stale external-data file.
    await writeOnnx(dir, TEST_CONFIG, weights);
    assertEquals(await Deno.stat(`${dir}/${ONNX_EXTERNAL_DATA}`).catch(() => null), null);
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
