/**
 * The edge decoder on a real attention model: a random Qwen2 exported by the trainer's ONNX exporter. Greedy
 * decoding with the KV cache must give the tokens that decoding without a cache (the whole sequence re-run
 * every step) gives.
 */

import { assertEquals, assertRejects } from "@std/assert";
import { parseDecoderConfig } from "../edge/inference/model_config.ts";
import { OnnxDecoder } from "../edge/inference/onnx_decoder.ts";
import { loadModelDir } from "../edge/inference/load_model_dir.ts";
import { writeOnnx } from "../trainer/model/onnx_export.ts";
import {
  randomQwen2Onnx,
  randomQwen2Weights,
  tinyQwen2Config,
  writeQwen2ModelDir,
} from "./edge_qwen2_model.ts";

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) out.push(id);
  return out;
}

Deno.test("OnnxDecoder on an exported Qwen2: the KV cache gives the same greedy tokens as full re-runs", async () => {
  const config = tinyQwen2Config(40, { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2 });
  const decoder = await OnnxDecoder.load(
    randomQwen2Onnx(config, 3),
    parseDecoderConfig({ ...config, eos_token_id: 0 }),
    "wasm",
  );
  const prompt = [5, 9, 2, 30, 17];
  const greedy = { sampling: { temperature: 0 }, seed: 0 };
  const cached = await collect(decoder.generate(prompt, { ...greedy, maxTokens: 12 }));
  const uncached: number[] = [];
  for (let i = 0; i < 12; i++) {
    const [next] = await collect(decoder.generate([...prompt, ...uncached], { ...greedy, maxTokens: 1 }));
    uncached.push(next);
  }
  assertEquals(cached, uncached);
  assertEquals(new Set(cached).size > 1, true); // not a degenerate constant output
  await decoder.release();
});

Deno.test("OnnxDecoder on an exported Qwen2: rows of one decode batch, padded to the longest, get the tokens they get alone", async () => {
  const config = tinyQwen2Config(40, { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2 });
  const onnx = randomQwen2Onnx(config, 3);
  const decoderConfig = parseDecoderConfig({ ...config, eos_token_id: 0 });
  const alone = await OnnxDecoder.load(onnx, decoderConfig, "wasm");
  const batched = await OnnxDecoder.load(onnx, decoderConfig, "wasm", undefined, 4);
  const prompts = [[5, 9, 2, 30, 17], [11], [3, 3, 8], [21, 7, 7, 1, 9, 12, 4, 26]];
  const options = (i: number) => ({
    sampling: { temperature: i % 2 === 0 ? 0 : 1 },
    seed: i,
    maxTokens: 10 + i,
  });
  const expected: number[][] = [];
  for (let i = 0; i < prompts.length; i++) {
    expected.push(await collect(alone.generate(prompts[i], options(i))));
  }
  const together = await Promise.all(prompts.map((p, i) => collect(batched.generate(p, options(i)))));
  assertEquals(together, expected);
  assertEquals(batched.stats.peakBatch, 4);
  await alone.release();
  await batched.release();
});

Deno.test("OnnxDecoder: ids at or above sampledVocabSize (a vocabulary padded past the tokenizer) are never drawn", async () => {
  const config = tinyQwen2Config(40, { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1 });
  const decoder = await OnnxDecoder.load(
    randomQwen2Onnx(config, 5),
    { ...parseDecoderConfig(config), sampledVocabSize: 6 },
    "wasm",
  );
  const tokens = await collect(
    decoder.generate([5, 9, 2], { sampling: { temperature: 2 }, seed: 1, maxTokens: 30 }),
  );
  assertEquals(tokens.length, 30);
  assertEquals(tokens.filter((t) => t >= 6), []);
  await decoder.release();
});

Deno.test("loadModelDir: a trainer-style folder (exported Qwen2), in-process decoders, generates text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge_qwen2_" });
  await writeQwen2ModelDir(`${dir}/tiny`, { num_hidden_layers: 2, hidden_size: 64, intermediate_size: 128 });
  // In-process: this file already ran onnxruntime-web on the main thread (the test above).
  const model = await loadModelDir(`${dir}/tiny`, { workers: false, concurrency: 2 });
  assertEquals(model.id, "tiny");
  const pieces: string[] = [];
  const result = await model.generate(
    model.encode("Q: 2+3=?"),
    { maxTokens: 10, sampling: { temperature: 0.8 }, seed: 4, stop: [] },
    (d) => {
      pieces.push(d);
    },
  );
  assertEquals(pieces.join(""), result.text);
  assertEquals(result.completionTokens <= 10, true);
  assertEquals(result.finishReason === "length" || result.finishReason === "stop", true);
  // The same model with its weights in model.onnx_data (as a model over 2 GiB is written) generates the same.
  const config = JSON.parse(await Deno.readTextFile(`${dir}/tiny/config.json`));
  await Deno.mkdir(`${dir}/external`);
  for (const f of ["config.json", "tokenizer.json"]) {
    await Deno.copyFile(`${dir}/tiny/${f}`, `${dir}/external/${f}`);
  }
  const files = await writeOnnx(`${dir}/external`, config, randomQwen2Weights(config), {
    externalDataThreshold: 1,
  });
  assertEquals(files, ["model.onnx", "model.onnx_data"]);
  const external = await loadModelDir(`${dir}/external`, { workers: false });
  const greedy = { maxTokens: 8, sampling: { temperature: 0 }, seed: 0, stop: [] };
  const a = await model.generate(model.encode("Q: 1+1=?"), greedy, () => {});
  const b = await external.generate(external.encode("Q: 1+1=?"), greedy, () => {});
  assertEquals(b.text, a.text);
  await external.close();
  // Workers cannot start after that: a clear error rather than a hang.
  await assertRejects(() => loadModelDir(`${dir}/tiny`), Error, "workers: false");
  await model.close();
});
