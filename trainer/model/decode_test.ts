import { assert, assertAlmostEquals, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { createWebGpuBackend } from "../gpu/webgpu/mod.ts";
import { noGpu, testGpu } from "../gpu/webgpu/testing.ts";
import type { Backend } from "../gpu/backend.ts";
import { createRng } from "../../core/random/mod.ts";
import { argmax, logSoftmax, TokenSampler } from "../../core/sampling/mod.ts";
import { fullLogits, randomTestModel } from "./decode_testing.ts";
import type { Model } from "./model.ts";
import { batchBucket, type DecodableModel, generate, generateGreedy, sequenceSeed } from "./decode.ts";

function testModel(backend: Backend): Model {
  return randomTestModel(backend).model;
}

/** The logits after the last token of `tokens`, recomputing the whole sequence. */
async function lastLogits(model: Model, tokens: number[]): Promise<Float32Array> {
  const v = model.config.vocab_size;
  return (await fullLogits(model, tokens)).slice((tokens.length - 1) * v);
}

/** Reference sampler: recompute the whole sequence each step, same per-sequence streams as `generate`. */
async function referenceGenerate(
  model: Model,
  prompts: number[][],
  o: {
    samplesPerPrompt: number;
    maxNewTokens: number;
    temperature: number;
    topP?: number;
    topK?: number;
    stopTokens: number[];
    seed: number;
  },
): Promise<{ tokens: number[]; finishReason: string }[]> {
  const sampler = new TokenSampler(model.config.vocab_size, o);
  const res = [];
  for (let p = 0; p < prompts.length; p++) {
    for (let j = 0; j < o.samplesPerPrompt; j++) {
      const rng = createRng(sequenceSeed(o.seed, p * o.samplesPerPrompt + j));
      const seq = [...prompts[p]];
      const out: number[] = [];
      let finishReason = "length";
      while (out.length < o.maxNewTokens) {
        const t = sampler.sample(await lastLogits(model, seq), rng);
        out.push(t);
        seq.push(t);
        if (o.stopTokens.includes(t)) {
          finishReason = "stop";
          break;
        }
      }
      res.push({ tokens: out, finishReason });
    }
  }
  return res;
}

const PROMPTS = [[1, 5, 9, 2], [7], [3, 3, 8, 12, 30, 4, 6], [11, 2]];

Deno.test("greedy decoding with the KV cache equals recomputing the whole sequence each step", async () => {
  const model = testModel(createCpuBackend());
  const got = await generateGreedy(model, PROMPTS, { maxNewTokens: 9 });
  for (let p = 0; p < PROMPTS.length; p++) {
    const seq = [...PROMPTS[p]];
    const want: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t = argmax(await lastLogits(model, seq));
      want.push(t);
      seq.push(t);
    }
    assertEquals(Array.from(got[p].tokens), want, `prompt ${p}`);
    assertEquals(got[p].finishReason, "length");
    assertEquals([got[p].promptIndex, got[p].sampleIndex], [p, 0]);
  }
  // The outputs must not be trivially constant, or the comparison would prove little.
  assert(new Set(got.flatMap((g) => Array.from(g.tokens))).size > 4);
});

Deno.test("sampling K per prompt with shared prefill, stops and compaction equals the recomputing reference", async () => {
  const model = testModel(createCpuBackend());
  const opts = {
    samplesPerPrompt: 3,
    maxNewTokens: 8,
    temperature: 1.3,
    topP: 0.95,
    topK: 20,
    stopTokens: [4, 17],
    seed: 7,
  };
  // prefillRows 8 splits the prefill into groups of one prompt (the longest has 7 tokens).
  const got = await generate(model, PROMPTS, { ...opts, prefillRows: 8 });
  const want = await referenceGenerate(model, PROMPTS, opts);
  assertEquals(got.length, PROMPTS.length * 3);
  for (let i = 0; i < got.length; i++) {
    assertEquals([got[i].promptIndex, got[i].sampleIndex], [Math.floor(i / 3), i % 3]);
    assertEquals(
      { tokens: Array.from(got[i].tokens), finishReason: got[i].finishReason },
      want[i],
      `sequence ${i}`,
    );
  }
  // The case exercises both endings and unequal lengths (so finished sequences left the batch mid-way).
  const reasons = new Set(got.map((g) => g.finishReason));
  assert(reasons.has("stop") && reasons.has("length"), JSON.stringify(want));
  // Samples of one prompt differ (they do not share a random stream).
  assert(new Set(got.slice(0, 3).map((g) => g.tokens.join(","))).size > 1);
});

Deno.test("stop tokens end a sequence on time and max-new-tokens marks it length", async () => {
  const model = testModel(createCpuBackend());
  const free = await generateGreedy(model, [PROMPTS[0]], { maxNewTokens: 6 });
  const toks = Array.from(free[0].tokens);
  const stopAt = toks.findIndex((t, i) => i >= 2 && !toks.slice(0, i).includes(t));
  assert(stopAt >= 2, `need a fresh token at step >= 2 in ${toks}`);
  const stopped = await generateGreedy(model, [PROMPTS[0]], { maxNewTokens: 6, stopTokens: [toks[stopAt]] });
  assertEquals(Array.from(stopped[0].tokens), toks.slice(0, stopAt + 1));
  assertEquals(stopped[0].finishReason, "stop");
  // Stopping on the first token.
  const first = await generateGreedy(model, [PROMPTS[0]], { maxNewTokens: 6, stopTokens: [toks[0]] });
  assertEquals([Array.from(first[0].tokens), first[0].finishReason], [[toks[0]], "stop"]);
  // Cut by the limit: exactly maxNewTokens tokens, "length", even when the limit is 1.
  for (const n of [1, 3]) {
    const cut = await generateGreedy(model, [PROMPTS[0]], { maxNewTokens: n });
    assertEquals([Array.from(cut[0].tokens), cut[0].finishReason], [toks.slice(0, n), "length"]);
  }
  // A stop token drawn exactly at the limit is "stop".
  const both = await generateGreedy(model, [PROMPTS[0]], {
    maxNewTokens: stopAt + 1,
    stopTokens: [toks[stopAt]],
  });
  assertEquals(both[0].finishReason, "stop");
});

Deno.test("sampling is reproducible for a seed and changes with it", async () => {
  const model = testModel(createCpuBackend());
  const o = { samplesPerPrompt: 2, maxNewTokens: 6, temperature: 1, seed: 3 };
  const a = await generate(model, PROMPTS.slice(0, 2), o);
  const b = await generate(model, PROMPTS.slice(0, 2), o);
  const other = await generate(model, PROMPTS.slice(0, 2), { ...o, seed: 4 });
  const strs = (r: { tokens: Uint32Array }[]) => r.map((x) => x.tokens.join(","));
  assertEquals(strs(a), strs(b));
  assertNotEquals(strs(a), strs(other));
});

Deno.test("prompts split into calls with promptOffset sample what the whole call samples", async () => {
  const backend = createCpuBackend({ threads: 2 });
  try {
    const model = testModel(backend);
    const prompts = PROMPTS.slice(0, 3);
    const o = { samplesPerPrompt: 2, maxNewTokens: 8, temperature: 1, topP: 0.9, seed: 9 };
    const strs = (r: { promptIndex: number; tokens: Uint32Array }[], offset = 0) =>
      r.map((x) => `${x.promptIndex + offset}:${x.tokens.join(",")}`);
    const whole = strs(await generate(model, prompts, o));
    const parts = [
      ...strs(await generate(model, prompts.slice(0, 1), o)),
      ...strs(await generate(model, prompts.slice(1), { ...o, promptOffset: 1 }), 1),
    ];
    assertEquals(parts, whole);
    await assertRejects(
      () => generate(model, prompts, { ...o, promptOffset: -1 }),
      RangeError,
      "promptOffset",
    );
  } finally {
    backend.destroy();
  }
});

Deno.test("a batch of 20 prompts gives each prompt the tokens it gets alone, 1 and 2 threads", async () => {
  // Batched steps run full panels of rows (split over threads), a prompt alone the kernels for fewer rows than a
  // panel: every row's results are the same either way (batch invariance), so are the tokens, for a seed per prompt.
  const rng = createRng(21);
  const prompts = Array.from(
    { length: 20 },
    () => Array.from({ length: 1 + rng.nextInt(9) }, () => rng.nextInt(37)),
  );
  const promptSeeds = prompts.map((_, i) => 100 + i);
  const o = { samplesPerPrompt: 2, maxNewTokens: 10, temperature: 1, topP: 0.9, stopTokens: [4] };
  for (const threads of [1, 2]) {
    const backend = createCpuBackend({ threads });
    try {
      const model = testModel(backend);
      const batched = await generate(model, prompts, { ...o, promptSeeds });
      for (let p = 0; p < prompts.length; p++) {
        const alone = await generate(model, [prompts[p]], { ...o, seed: promptSeeds[p] });
        for (let k = 0; k < o.samplesPerPrompt; k++) {
          const got = batched[p * o.samplesPerPrompt + k];
          assertEquals(
            [Array.from(got.tokens), got.finishReason],
            [Array.from(alone[k].tokens), alone[k].finishReason],
            `prompt ${p} sample ${k} threads=${threads}`,
          );
        }
      }
    } finally {
      backend.destroy();
    }
  }
});

Deno.test("sampledVocab: ids at or above it are never drawn (a vocabulary padded past the tokenizer)", async () => {
  const model = testModel(createCpuBackend());
  const o = { samplesPerPrompt: 4, maxNewTokens: 8, temperature: 2, seed: 5 };
  const all = (await generate(model, PROMPTS, o)).flatMap((r) => Array.from(r.tokens));
  assert(all.some((t) => t >= 5), "the unrestricted samples should reach ids of 5 and more");
  const low = (await generate(model, PROMPTS, { ...o, sampledVocab: 5 })).flatMap((r) =>
    Array.from(r.tokens)
  );
  assert(low.every((t) => t < 5), low.join(","));
});

Deno.test("shape buckets: padded decode batches give the same tokens and only bucket-sized steps", async () => {
  const model = testModel(createCpuBackend());
  const batches: number[] = [];
  const recording: DecodableModel = {
    config: model.config,
    backend: model.backend,
    createKvCache: (b, c) => model.createKvCache(b, c),
    freeKvCache: (c) => model.freeKvCache(c),
    lmLogits: (h, r, o) => model.lmLogits(h, r, o),
    forwardCached(cache, tokens, queryLen, lengths) {
      if (queryLen === 1) batches.push(cache.batch);
      return model.forwardCached(cache, tokens, queryLen, lengths);
    },
  };
  const o = {
    samplesPerPrompt: 3,
    maxNewTokens: 8,
    temperature: 1.3,
    topP: 0.95,
    stopTokens: [4, 17],
    seed: 7,
  };
  const exact = await generate(recording, PROMPTS, { ...o, shapeBuckets: false });
  const exactBatches = new Set(batches);
  batches.length = 0;
  const bucketed = await generate(recording, PROMPTS, { ...o, shapeBuckets: true });
  assertEquals(
    bucketed.map((s) => [s.tokens.join(","), s.finishReason]),
    exact.map((s) => [s.tokens.join(","), s.finishReason]),
  );
  for (const b of batches) assert(b === 12 || [1, 2, 4, 8].includes(b), `step batch ${b} is not a bucket`);
  assert(exactBatches.size > new Set(batches).size, "the case must have steps at several batch sizes");
});

Deno.test("batchBucket rounds up to powers of two, then multiples of 64, capped at the total", () => {
  const got = [1, 2, 3, 5, 33, 64, 65, 100, 129].map((n) => batchBucket(n, 1000));
  assertEquals(got, [1, 2, 4, 8, 64, 64, 128, 128, 192]);
  assertEquals(batchBucket(100, 120), 120);
});

Deno.test("generate rejects bad prompts and options", async () => {
  const model = testModel(createCpuBackend());
  const base = { maxNewTokens: 2, temperature: 1 };
  await assertRejects(() => generate(model, [[]], base), RangeError, "empty");
  await assertRejects(() => generate(model, [[1, 37]], base), RangeError, "outside");
  await assertRejects(() => generate(model, [[1]], { ...base, maxNewTokens: 0 }), RangeError, "maxNewTokens");
  await assertRejects(
    () => generate(model, [[1]], { ...base, samplesPerPrompt: 0 }),
    RangeError,
    "samplesPerPrompt",
  );
  await assertRejects(() => generate(model, [[1]], { ...base, stopTokens: [99] }), RangeError, "stop token");
  await assertRejects(() => generate(model, [[1]], { ...base, topP: 2 }), RangeError, "topP");
  await assertRejects(() => generate(model, [[1]], { ...base, sampledVocab: 0 }), RangeError, "sampledVocab");
  assertEquals(await generate(model, [], base), []);
});

Deno.test("the sampler's logits agree with the trainer's full forward (log-probabilities of the sampled tokens)", async () => {
  const model = testModel(createCpuBackend());
  const prompt = PROMPTS[2];
  const [res] = await generate(model, [prompt], { maxNewTokens: 6, temperature: 1, seed: 11 });
  const seq = [...prompt, ...res.tokens];
  const v = model.config.vocab_size;
  const all = await fullLogits(model, seq);
  const mask = new Float32Array(seq.length);
  for (let t = prompt.length - 1; t < seq.length - 1; t++) mask[t] = 1;
  const { logprobs } = await model.logprobs({
    tokens: Int32Array.from(seq),
    batch: 1,
    seqLen: seq.length,
    mask,
  });
  for (let t = prompt.length - 1; t < seq.length - 1; t++) {
    const ls = logSoftmax(all, new Float32Array(v), t * v, v);
    assertAlmostEquals(logprobs[t], ls[seq[t + 1]], 1e-5, `position ${t}`);
  }
});

Deno.test({
  name: "webgpu: greedy decoding with the KV cache equals recomputing, and gives the CPU backend's tokens",
  ignore: noGpu,
  async fn() {
    const backend = await createWebGpuBackend({ context: testGpu! });
    const model = testModel(backend);
    try {
      const got = await generateGreedy(model, PROMPTS, { maxNewTokens: 6 });
      const cpu = await generateGreedy(testModel(createCpuBackend()), PROMPTS, { maxNewTokens: 6 });
      for (let p = 0; p < PROMPTS.length; p++) {
        const seq = [...PROMPTS[p]];
        const want: number[] = [];
        for (let i = 0; i < 6; i++) {
          const t = argmax(await lastLogits(model, seq));
          want.push(t);
          seq.push(t);
        }
        assertEquals(Array.from(got[p].tokens), want, `prompt ${p}`);
        assertEquals(Array.from(got[p].tokens), Array.from(cpu[p].tokens), `prompt ${p} vs cpu`);
      }
      // Sampling with compaction on the device gives the CPU backend's tokens too (well separated logits).
      const o = { samplesPerPrompt: 3, maxNewTokens: 6, temperature: 0.7, stopTokens: [4, 17], seed: 2 };
      const a = await generate(model, PROMPTS, o);
      const b = await generate(testModel(createCpuBackend()), PROMPTS, o);
      assertEquals(a.map((s) => s.tokens.join(",")), b.map((s) => s.tokens.join(",")));
    } finally {
      model.dispose();
      backend.destroy();
    }
  },
});
