import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import * as ort from "onnxruntime-web/all";
import { buildToyModel, successorSpec, toyConfig, toyReference } from "../../tests/edge_toy_model.ts";
import { DecodeBatch, type StepRunner } from "./decode_batch.ts";
import { parseDecoderConfig } from "./model_config.ts";
import { OnnxDecoder } from "./onnx_decoder.ts";

// Positions and the token count change the tokens, so a row whose cache is misaligned, or whose position or
// count is off by one after padding, gives other tokens than the reference.
const spec = successorSpec(13, 64);
for (let pos = 0; pos < spec.maxPositions; pos++) spec.p[pos * 13 + (pos * 5) % 13] = 6;
for (let j = 0; j < 13; j++) spec.u[j] = ((j * 7) % 13) * 0.45;
const config = parseDecoderConfig(toyConfig(spec, 0));
const greedy = { sampling: { temperature: 0 }, seed: 0 };

/** Collects a generation's tokens, calling `after(k)` once its k-th token is in. */
async function collect(it: AsyncIterable<number>, after?: (count: number) => void): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) {
    out.push(id);
    after?.(out.length);
  }
  return out;
}

Deno.test("DecodeBatch: generations that join at different times and lengths each get their reference tokens, in shared steps", async () => {
  const decoder = await OnnxDecoder.load(buildToyModel(spec), config, "wasm", undefined, 4);
  const prompts = [[3, 1, 4], [9], [2, 7, 1, 8, 2, 8], [5, 5]];
  const lengths = [20, 14, 9, 17];
  const started: Promise<number[]>[] = [];
  const start = (i: number) => {
    started[i] = collect(decoder.generate(prompts[i], { ...greedy, maxTokens: lengths[i] }), (k) => {
      // Each later generation joins once the one before it has 3 tokens: the batch is mid-flight.
      if (k === 3 && i + 1 < prompts.length) start(i + 1);
    });
  };
  start(0);
  while (started.length < prompts.length) await new Promise((r) => setTimeout(r, 1));
  const results = await Promise.all(started);
  results.forEach((tokens, i) => assertEquals(tokens, toyReference(spec, prompts[i], lengths[i])));
  const { steps, sequenceSteps, peakBatch } = decoder.stats;
  assertEquals(sequenceSteps, lengths.reduce((a, b) => a + b, 0) - prompts.length); // first tokens: prefill
  assertEquals(steps < sequenceSteps, true);
  assertEquals(peakBatch > 1, true);
  await decoder.release();
});

Deno.test("DecodeBatch: seeded sampling gives each row the tokens it gets alone; n rows of one prompt share a prefill", async () => {
  const uniform = successorSpec(13, 64);
  uniform.w.fill(0);
  for (let pos = 0; pos < uniform.maxPositions; pos++) uniform.p[pos * 13 + (pos * 5) % 13] = 1.5;
  const model = buildToyModel(uniform);
  const cfg = parseDecoderConfig(toyConfig(uniform, 0));
  const alone = await OnnxDecoder.load(model, cfg, "wasm", undefined, 1);
  const batched = await OnnxDecoder.load(model, cfg, "wasm", undefined, 8);
  const options = (seed: number) => ({ sampling: { temperature: 1 }, seed, maxTokens: 24 });
  const expected: number[][] = [];
  for (let seed = 10; seed < 14; seed++) expected.push(await collect(alone.generate([1, 2], options(seed))));
  const together = await Promise.all(
    [10, 11, 12, 13].map((seed) => collect(batched.generate([1, 2], options(seed)))),
  );
  assertEquals(together, expected);
  assertEquals(new Set(together.map((t) => t.join())).size > 1, true); // the seeds do differ
  assertEquals(batched.stats.prefills, 1);
  assertEquals(batched.stats.peakBatch, 4);
  assertEquals(batched.stats.steps, 23);
  await alone.release();
  await batched.release();
});

Deno.test("DecodeBatch: a row that leaves or is aborted is dropped; the others go on; stop ids end a row", async () => {
  const decoder = await OnnxDecoder.load(buildToyModel(spec), config, "wasm", undefined, 3);
  const controller = new AbortController();
  const leaving = collect(decoder.generate([4], { ...greedy, maxTokens: 40 }), (k) => {
    if (k === 2) throw new Error("consumer left");
  }).catch((err) => err.message);
  const aborted = assertRejects(
    () =>
      collect(
        decoder.generate([6], { ...greedy, maxTokens: 40, signal: controller.signal }),
        (k) => k === 3 && controller.abort(new Error("client gone")),
      ),
    Error,
    "client gone",
  );
  const reference = toyReference(spec, [1, 2], 30);
  const stopAt = reference[7];
  const staying = collect(decoder.generate([1, 2], { ...greedy, maxTokens: 30, stopIds: [stopAt] }));
  assertEquals(await leaving, "consumer left");
  await aborted;
  assertEquals(await staying, reference.slice(0, reference.indexOf(stopAt) + 1));
  // Both left rows were gone within a step or two: far fewer row-steps than their 40 tokens each.
  assertEquals(decoder.stats.sequenceSteps < 30, true);
  await decoder.release();
});

Deno.test("DecodeBatch: more generations than maxBatch are refused", async () => {
  const decoder = await OnnxDecoder.load(buildToyModel(spec), config, "wasm", undefined, 2);
  const a = decoder.generate([1], { ...greedy, maxTokens: 5 });
  const b = decoder.generate([2], { ...greedy, maxTokens: 5 });
  const firstA = a.next(), firstB = b.next();
  await assertRejects(
    () => decoder.generate([3], { ...greedy, maxTokens: 5 }).next(),
    Error,
    "2 generations are already under way",
  );
  await Promise.all([firstA, firstB, collect(a), collect(b)]);
  await decoder.release();
});

Deno.test("DecodeBatch: the feeds right-align each row's cache and mask the padding; no position_ids means one row", async () => {
  const heads = 1, dim = 1, vocab = 4;
  const cfg = {
    ...parseDecoderConfig({ ...toyConfig(successorSpec(vocab), 0), num_hidden_layers: 1 }),
    numKvHeads: heads,
    headDim: dim,
  };
  const seen: { mask: bigint[]; positions: bigint[]; key: number[] }[] = [];
  // A fake model: each new position's key is its token id + 1; the logits always favour token 1.
  const run: StepRunner = (feeds) => {
    const [b, s] = feeds.input_ids.dims;
    const past = feeds["past_key_values.0.key"];
    const width = past.dims[2] + s;
    const key = new Float32Array(b * width);
    const ids = feeds.input_ids.data as BigInt64Array;
    for (let r = 0; r < b; r++) {
      key.set((past.data as Float32Array).subarray(r * past.dims[2], (r + 1) * past.dims[2]), r * width);
      for (let j = 0; j < s; j++) key[r * width + past.dims[2] + j] = Number(ids[r * s + j]) + 1;
    }
    if (past.dims[2] > 0) {
      seen.push({
        mask: [...(feeds.attention_mask.data as BigInt64Array)],
        positions: [...(feeds.position_ids.data as BigInt64Array)],
        key: [...(past.data as Float32Array)],
      });
    }
    const logits = new Float32Array(b * s * vocab);
    for (let i = 0; i < b * s; i++) logits[i * vocab + 1] = 5;
    const present = new ort.Tensor("float32", key, [b, heads, width, dim]);
    return Promise.resolve({
      logits: new ort.Tensor("float32", logits, [b, s, vocab]),
      "present.0.key": present,
      "present.0.value": present,
    });
  };
  const batch = new DecodeBatch(cfg, run, ort.Tensor, { positionIds: true, cacheBranch: false }, 2);
  await Promise.all([
    collect(batch.generate([2, 3, 2], { ...greedy, maxTokens: 2 })),
    collect(batch.generate([3], { ...greedy, maxTokens: 2 })),
  ]);
  // One decode step: row 0 has 3 cached tokens, row 1 one, right-aligned, the gap zero and masked.
  assertEquals(seen, [{
    mask: [1n, 1n, 1n, 1n, 0n, 0n, 1n, 1n],
    positions: [3n, 1n],
    key: [3, 4, 3, 0, 0, 4],
  }]);
  const single = new DecodeBatch(cfg, run, ort.Tensor, { positionIds: false, cacheBranch: false }, 8);
  assertEquals(single.maxBatch, 1);
  assertThrows(() => new DecodeBatch(cfg, run, ort.Tensor, { positionIds: true, cacheBranch: false }, 0));
});
