import { assert, assertAlmostEquals, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { createCharTokenizer } from "../../core/tokenizer/mod.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { assertGradClose, dot, randInt, randn, sampleIndices } from "../gpu/cpu/testing.ts";
import { type ModelConfig, presetConfig } from "./config.ts";
import { TEST_CONFIG } from "./decode_testing.ts";
import { createModel, type Model } from "./model.ts";
import type { TokenBatch } from "./batch.ts";

/** TEST_CONFIG's layers, heads and tied head at a smaller width and vocabulary. */
const micro: ModelConfig = {
  ...TEST_CONFIG,
  vocab_size: 11,
  hidden_size: 16,
  intermediate_size: 24,
  max_position_embeddings: 32,
};

/** A right-padded batch: row b has `lens[b]` real tokens; targets from position `promptLen` on count. */
function makeBatch(seed: number, lens: number[], seqLen: number, vocab: number, promptLen = 1): TokenBatch {
  const batch = lens.length;
  const tokens = randInt(seed, batch * seqLen, vocab);
  const mask = new Float32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    for (let t = lens[b]; t < seqLen; t++) tokens[b * seqLen + t] = 0;
    for (let t = promptLen - 1; t < lens[b] - 1; t++) mask[b * seqLen + t] = 1;
  }
  return { tokens, batch, seqLen, mask };
}

/** Randomises every parameter (larger than the init, so gradients are well above f32 noise). */
function randomise(model: Model, seed: number): void {
  let s = seed;
  for (const spec of model.layout.specs) {
    const data = randn(s++, spec.size, 0.3);
    if (spec.name.endsWith("layernorm.weight") || spec.name === "model.norm.weight") {
      data.forEach((v, i) => data[i] = 1 + v);
    }
    model.setParam(spec.name, data);
  }
}

// Gradient check: analytic gradients of sum_t c_t lp_t against central differences, on sampled entries of every
// parameter. f32 forward passes, so tolerances are loose but far below the size of a wrong gradient.
async function gradCheck(model: Model, loss: () => Promise<number>, backward: () => Promise<void>) {
  model.zeroGrad();
  await backward();
  for (const spec of model.layout.specs) {
    const grad = await model.backend.download(model.grad(spec.name));
    const values = await model.getParam(spec.name);
    const numeric = new Map<number, number>();
    for (const i of sampleIndices(spec.size, 3, spec.offset)) {
      const saved = values[i];
      const eps = 1e-2;
      values[i] = saved + eps;
      model.setParam(spec.name, values);
      const up = await loss();
      values[i] = saved - eps;
      model.setParam(spec.name, values);
      const down = await loss();
      values[i] = saved;
      model.setParam(spec.name, values);
      numeric.set(i, (up - down) / (2 * eps));
    }
    assertGradClose(spec.name, grad, numeric, 5e-3, 5e-2);
  }
}

Deno.test("model: parameter count of the presets (Qwen2.5-0.5B has 494,032,768)", () => {
  const be = createCpuBackend();
  // The tiny preset is what `deno task train` trains: 105k parameters with the character tokenizer.
  const tiny = createModel(presetConfig("tiny", { vocabSize: createCharTokenizer().vocabSize }), be, {
    seed: 1,
  });
  assertEquals(tiny.parameterCount, 105_344);
  tiny.dispose();
  // Layout only (no allocation) for the large shapes.
  const count = (name: "small" | "qwen2.5-0.5b") => {
    const cfg = presetConfig(name);
    const C = cfg.hidden_size, I = cfg.intermediate_size, D = C / cfg.num_attention_heads;
    const kv = cfg.num_key_value_heads * D;
    const layer = 2 * C + C * C + C + 2 * (kv * C + kv) + C * C + 3 * C * I;
    return cfg.vocab_size * C + cfg.num_hidden_layers * layer + C;
  };
  assertEquals(count("qwen2.5-0.5b"), 494_032_768);
});

Deno.test("model: getParams and setParams move every weight at once; weightsVersion follows the writes", async () => {
  const backend = createCpuBackend({ threads: 1 });
  const a = createModel(TEST_CONFIG, backend, { seed: 1 }),
    b = createModel(TEST_CONFIG, backend, { seed: 2 });
  try {
    const flat = await a.getParams();
    assertEquals(flat.length, a.layout.total);
    const v = b.weightsVersion;
    b.setParams(flat);
    assert(b.weightsVersion !== v);
    for (const s of a.layout.specs) assertEquals(await b.getParam(s.name), await a.getParam(s.name), s.name);
    const u = b.weightsVersion;
    await b.getParams();
    assertEquals(b.weightsVersion, u, "reading leaves the version");
    assertThrows(() => b.setParams(flat.subarray(1)), RangeError, "expected");
  } finally {
    a.dispose();
    b.dispose();
    backend.destroy();
  }
});

Deno.test("model: whole-model gradient check (LM head, untied and tied)", async () => {
  for (const tied of [false, true]) {
    const model = createModel({ ...micro, tie_word_embeddings: tied }, createCpuBackend(), { seed: 3 });
    randomise(model, 10);
    const batch = makeBatch(4, [6, 4], 6, micro.vocab_size, 2);
    const coeffs = randn(5, 12);
    const loss = async () => dot((await model.logprobs(batch)).logprobs, coeffs);
    await gradCheck(model, loss, async () => {
      await model.forwardBackward(batch, coeffs);
    });
  }
});

Deno.test("model: forwardBackward after logprobs of the same batch reuses the forward, bit for bit", async () => {
  // Counts the forwards (each starts with one embedding lookup).
  let forwards = 0;
  const be = createCpuBackend();
  const counted = new Proxy(be, {
    get(target, prop, receiver) {
      if (prop === "embeddingForward") forwards++;
      return Reflect.get(target, prop, receiver);
    },
  });
  const model = createModel(micro, counted, { seed: 3 });
  randomise(model, 20);
  const batch = makeBatch(4, [6, 4], 6, micro.vocab_size, 2);
  const coeffs = randn(5, 12);
  const fresh = async () => {
    model.zeroGrad();
    // A copy of the batch is another object: always a fresh forward.
    const r = await model.forwardBackward({ ...batch, tokens: batch.tokens.slice() }, coeffs);
    return { ...r, grads: await model.backend.download(model.grads) };
  };
  const reused = async () => {
    const scored = await model.logprobs(batch);
    model.zeroGrad();
    const before = forwards;
    const r = await model.forwardBackward(batch, coeffs);
    assertEquals(forwards, before, "forwardBackward ran a second forward");
    assertEquals(r.logprobs, scored.logprobs);
    return { ...r, grads: await model.backend.download(model.grads) };
  };
  const a = await fresh(), b = await reused();
  assertEquals(b.logprobs, a.logprobs);
  assertEquals(b.grads, a.grads);
  // After an update the weights changed: the same batch object gets a new forward, not the stale one.
  await model.step({ lr: 1e-2 });
  const stepped = forwards;
  const after = await model.forwardBackward(batch, coeffs);
  assertEquals(forwards, stepped + 1);
  assert(after.logprobs.some((v, i) => v !== b.logprobs[i]), "stale activations reused after step()");
  assertEquals(after.logprobs, (await model.logprobs({ ...batch, tokens: batch.tokens.slice() })).logprobs);
});

Deno.test("model: scalar head starts at zero and passes a gradient check", async () => {
  const model = createModel(micro, createCpuBackend(), { seed: 3, head: "scalar" });
  const batch = makeBatch(6, [5, 3], 5, micro.vocab_size);
  assert((await model.scores(batch)).every((s) => s === 0));
  randomise(model, 30);
  const d = randn(7, 10);
  await gradCheck(model, async () => dot(await model.scores(batch), d), () => {
    model.scoresBackward(batch, d);
    return Promise.resolve();
  });
  await assertRejects(() => model.logprobs(batch), Error, "head");
});

Deno.test("model: the tiny preset overfits one batch (mean NLL < 0.05)", async () => {
  const model = createModel(presetConfig("tiny", { vocabSize: 20 }), createCpuBackend(), { seed: 7 });
  const batch = makeBatch(8, [16, 12], 16, 20);
  const n = batch.mask.reduce((a, b) => a + b, 0);
  const coeffs = batch.mask.map((m) => -m / n);
  let loss = Infinity;
  for (let i = 0; i < 60 && loss >= 0.05; i++) {
    model.zeroGrad();
    const { logprobs } = await model.forwardBackward(batch, coeffs);
    loss = -dot(logprobs, batch.mask) / n;
    await model.step({ lr: 3e-3, maxGradNorm: 1, weightDecay: 0 });
  }
  assert(loss < 0.05, `loss ${loss}`);
});

Deno.test("model: KV-cached prefill and decoding steps give the same log-probabilities as the full forward", async () => {
  const be = createCpuBackend();
  const model = createModel(micro, be, { seed: 11 });
  randomise(model, 40);
  const T = 7;
  const batch = makeBatch(12, [7, 5], T, micro.vocab_size);
  const full = (await model.logprobs(batch)).logprobs;
  const cache = model.createKvCache(2, T + 1);
  const V = micro.vocab_size;
  // Prefill 3 tokens of each row, then one token at a time; compare log-softmax at each target.
  const check = async (hidden: ReturnType<Model["forwardCached"]>, q: number, from: number) => {
    const logits = await be.download(model.lmLogits(hidden, 2 * q));
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < q; i++) {
        const t = from + i, r = b * T + t;
        if (!batch.mask[r]) continue;
        const z = logits.subarray((b * q + i) * V, (b * q + i + 1) * V);
        const mx = Math.max(...z);
        const lse = mx + Math.log(z.reduce((s, x) => s + Math.exp(x - mx), 0));
        assertAlmostEquals(z[batch.tokens[r + 1]] - lse, full[r], 1e-4);
      }
    }
  };
  const pick = (from: number, q: number) => {
    const out = new Int32Array(2 * q);
    for (let b = 0; b < 2; b++) for (let i = 0; i < q; i++) out[b * q + i] = batch.tokens[b * T + from + i];
    return out;
  };
  await check(model.forwardCached(cache, pick(0, 3), 3, new Int32Array([0, 0])), 3, 0);
  for (let t = 3; t < T - 1; t++) {
    await check(model.forwardCached(cache, pick(t, 1), 1, new Int32Array([t, t])), 1, t);
  }
  assertThrows(() => model.forwardCached(cache, pick(0, 3), 3, new Int32Array([6, 0])), RangeError);
  model.freeKvCache(cache);
});

Deno.test("model: clipping, optimiser state round trip, clone and copyWeightsFrom", async () => {
  const be = createCpuBackend();
  const a = createModel(micro, be, { seed: 1 });
  const batch = makeBatch(2, [6, 6], 6, micro.vocab_size);
  const coeffs = batch.mask.map((m) => -m);
  const run = async (m: Model) => {
    m.zeroGrad();
    await m.forwardBackward(batch, coeffs);
    return (await m.step({ lr: 1e-2, maxGradNorm: 1e-3, weightDecay: 0.1 })).gradNorm;
  };
  const g1 = await run(a);
  assert(g1 > 1e-3);
  const b = await a.clone();
  b.setOptimizerState(await a.optimizerState());
  await run(a);
  await run(b);
  assertEquals(b.stepCount, 2);
  assertEquals(
    await a.getParam("model.layers.1.mlp.up_proj.weight"),
    await b.getParam("model.layers.1.mlp.up_proj.weight"),
  );
  const rm = await a.clone({ head: "scalar" });
  assertEquals(await rm.getParam("model.norm.weight"), await a.getParam("model.norm.weight"));
  assert((await rm.getParam("score.weight")).every((x) => x === 0));
});

Deno.test("model: malformed batches and coefficients are rejected with clear errors", async () => {
  const model = createModel(micro, createCpuBackend(), { seed: 1 });
  const ok = makeBatch(1, [4], 4, micro.vocab_size);
  const lastMasked = { ...ok, mask: new Float32Array([0, 0, 0, 1]) };
  await assertRejects(() => model.logprobs(lastMasked), RangeError, "last position");
  const badToken = { ...ok, tokens: new Int32Array([0, 1, 99, 2]) };
  await assertRejects(() => model.logprobs(badToken), RangeError, "vocabulary");
  await assertRejects(() => model.forwardBackward(ok, new Float32Array(3)), RangeError, "coeffs");
  // Nothing masked in: zero results and no gradient.
  model.zeroGrad();
  const none = await model.forwardBackward({ ...ok, mask: new Float32Array(4) }, new Float32Array(4).fill(1));
  assert(none.logprobs.every((x) => x === 0));
  assertEquals((await model.step({ lr: 1 })).gradNorm, 0);
  assertThrows(
    () => createModel({ ...micro, num_key_value_heads: 3 }, createCpuBackend(), { seed: 1 }),
    Error,
    "multiple",
  );
});
