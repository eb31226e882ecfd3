import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { createRng } from "../../core/random/mod.ts";
import { randomTestModel } from "./decode_testing.ts";
import { generate, type GeneratedSequence, type GenerateOptions } from "./decode.ts";
import { DecodeReplicas } from "./replicas.ts";

const rng = createRng(31);
// Prompts of different lengths, so that the parts finish at different steps.
const PROMPTS = Array.from(
  { length: 7 },
  () => Array.from({ length: 1 + rng.nextInt(8) }, () => rng.nextInt(37)),
);
const SAMPLED: GenerateOptions = {
  samplesPerPrompt: 3,
  maxNewTokens: 12,
  temperature: 1,
  topP: 0.9,
  stopTokens: [4],
  seed: 5,
};

const plain = (seqs: GeneratedSequence[]) =>
  seqs.map((s) => [s.promptIndex, s.sampleIndex, Array.from(s.tokens).join(","), s.finishReason]);

Deno.test("replicas on 2 and 3 threads sample what generate samples on the model, for a seed or a seed per prompt", async () => {
  const backend = createCpuBackend({ threads: 1 });
  const { model } = randomTestModel(backend);
  try {
    for (const count of [2, 3]) {
      const replicas = new DecodeReplicas(count);
      try {
        const decoder = replicas.decoderFor(model);
        for (
          const o of [
            SAMPLED,
            { ...SAMPLED, promptSeeds: PROMPTS.map((_, i) => 40 + i) },
            { ...SAMPLED, temperature: 0, samplesPerPrompt: 1 },
          ]
        ) {
          assertEquals(plain(await decoder.generate(PROMPTS, o)), plain(await generate(model, PROMPTS, o)));
        }
        assertEquals(replicas.liveThreads, count);
      } finally {
        replicas.close();
      }
      assertEquals(replicas.liveThreads, 0);
    }
  } finally {
    model.dispose();
    backend.destroy();
  }
});

Deno.test("replicas take the model's new weights after they change, and another model's", async () => {
  const backend = createCpuBackend({ threads: 1 });
  const { model } = randomTestModel(backend);
  const other = randomTestModel(backend, undefined, 2).model;
  const replicas = new DecodeReplicas(2);
  try {
    const before = plain(await replicas.generate(model, PROMPTS, SAMPLED));
    const version = model.weightsVersion;
    const w = await model.getParam("model.norm.weight");
    model.setParam("model.norm.weight", w.map((x) => -3 * x));
    assert(model.weightsVersion !== version);
    const after = plain(await replicas.generate(model, PROMPTS, SAMPLED));
    assertEquals(after, plain(await generate(model, PROMPTS, SAMPLED)));
    assert(JSON.stringify(after) !== JSON.stringify(before), "the new weights change the samples");
    assertEquals(
      plain(await replicas.generate(other, PROMPTS, SAMPLED)),
      plain(await generate(other, PROMPTS, SAMPLED)),
    );
  } finally {
    replicas.close();
    model.dispose();
    other.dispose();
    backend.destroy();
  }
});

Deno.test("replicas: a bad option is generate's RangeError; a closed set refuses calls; a bad count throws", async () => {
  const backend = createCpuBackend({ threads: 1 });
  const { model } = randomTestModel(backend);
  const replicas = new DecodeReplicas(2);
  try {
    await assertRejects(
      () => replicas.generate(model, PROMPTS, { ...SAMPLED, maxNewTokens: 0 }),
      RangeError,
      "maxNewTokens",
    );
    await assertRejects(() => replicas.generate(model, [[1], []], SAMPLED), RangeError, "prompt 0 is empty");
    // A seed too many would vanish in the split into parts; a NaN seed is caught before any part is sent.
    for (const promptSeeds of [[...PROMPTS.map((_, i) => i), 9], PROMPTS.map((_, i) => i === 1 ? NaN : i)]) {
      await assertRejects(
        () => replicas.generate(model, PROMPTS, { ...SAMPLED, promptSeeds }),
        RangeError,
        "promptSeeds",
      );
    }
    assertEquals(await replicas.generate(model, [], SAMPLED), []);
  } finally {
    replicas.close();
  }
  await assertRejects(() => replicas.generate(model, PROMPTS, SAMPLED), Error, "closed");
  assertThrows(() => new DecodeReplicas(0), RangeError, "count");
  model.dispose();
  backend.destroy();
});
