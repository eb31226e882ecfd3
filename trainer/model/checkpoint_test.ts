import { assert, assertEquals, assertRejects } from "@std/assert";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { randInt, randn } from "../gpu/cpu/testing.ts";
import type { ModelConfig } from "./config.ts";
import { TEST_CONFIG } from "./decode_testing.ts";
import { createModel } from "./model.ts";
import { loadCheckpoint, loadFolderTokenizer, saveCheckpoint } from "./checkpoint.ts";
import { CHAT_TEMPLATES } from "../../core/data/mod.ts";
import { createCharTokenizer, tokenizerFromJson } from "../../core/tokenizer/mod.ts";
import { encodeSafetensors, type TensorToWrite } from "./safetensors.ts";
import { paramLayout } from "./params.ts";
import type { TokenBatch } from "./batch.ts";

/** TEST_CONFIG's layers and heads at a smaller width and vocabulary, with a separate LM head. */
const micro: ModelConfig = {
  ...TEST_CONFIG,
  vocab_size: 13,
  hidden_size: 16,
  intermediate_size: 24,
  tie_word_embeddings: false,
  max_position_embeddings: 32,
};

const batch: TokenBatch = {
  tokens: randInt(1, 2 * 6, 13),
  batch: 2,
  seqLen: 6,
  mask: new Float32Array([0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0]),
};

Deno.test("checkpoint: save then load gives identical log-probabilities; files in HF layout", async () => {
  const dir = await Deno.makeTempDir();
  const be = createCpuBackend();
  const model = createModel(micro, be, { seed: 5 });
  model.setParam("model.layers.0.self_attn.q_proj.bias", randn(2, 16));
  // A chat model's tokenizer: turns end with <|im_end|> (3), and <|endoftext|> (1) ends a sequence too.
  const tokenizer = tokenizerFromJson(createCharTokenizer({ alphabet: "abcdefgh" }).toJSON(), {
    eos_token: "<|im_end|>",
  }, [1]);
  await saveCheckpoint(dir, model, {
    tokenizer,
    chatTemplate: CHAT_TEMPLATES["qwen-math"],
    generationConfig: { top_p: 0.8, eos_token_id: 7 },
  });
  const json = async (name: string) => JSON.parse(await Deno.readTextFile(`${dir}/${name}`));
  const config = await json("config.json");
  assertEquals(config.model_type, "qwen2");
  assertEquals(config.architectures, ["Qwen2ForCausalLM"]);
  assertEquals(config.torch_dtype, "float32");
  assertEquals([config.eos_token_id, config.pad_token_id, "bos_token_id" in config], [3, 0, false]);
  assertEquals(await json("generation_config.json"), { top_p: 0.8, pad_token_id: 0, eos_token_id: [3, 1] });
  const tokConfig = await json("tokenizer_config.json");
  assertEquals([tokConfig.eos_token, tokConfig.pad_token, tokConfig.model_max_length], [
    "<|im_end|>",
    "<|pad|>",
    32,
  ]);
  assertEquals(tokConfig.chat_template, CHAT_TEMPLATES["qwen-math"]);
  const folder = await loadFolderTokenizer(dir);
  assertEquals([folder.tokenizer.eosId, folder.tokenizer.stopIds], [3, [3, 1]]);
  assertEquals(folder.chatTemplate, CHAT_TEMPLATES["qwen-math"]);
  assertEquals(folder.tokenizer.toJSON(), tokenizer.toJSON());
  const loaded = await loadCheckpoint(dir, be);
  assertEquals(loaded.tokenizerJson, JSON.stringify(tokenizer.toJSON()));
  assertEquals(loaded.optimizerRestored, false);
  assertEquals(await loaded.model.logprobs(batch), await model.logprobs(batch));
  for (const dtype of ["f16", "bf16"] as const) {
    await saveCheckpoint(dir, model, { dtype });
    assertEquals((await json("config.json")).torch_dtype, dtype === "f16" ? "float16" : "bfloat16");
    const half = await loadCheckpoint(dir, be);
    const a = (await half.model.logprobs(batch)).logprobs, b = (await model.logprobs(batch)).logprobs;
    for (let i = 0; i < a.length; i++) assert(Math.abs(a[i] - b[i]) < (dtype === "f16" ? 1e-2 : 5e-2));
  }
  model.setParam("model.norm.weight", new Float32Array(16).fill(7e4));
  await assertRejects(() => saveCheckpoint(dir, model, { dtype: "f16" }), RangeError, "overflows float16");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: optimiser state makes resumed training identical; scalar head round trip", async () => {
  const dir = await Deno.makeTempDir();
  const be = createCpuBackend();
  const model = createModel(micro, be, { seed: 6 });
  const coeffs = batch.mask.map((m) => -m / 8);
  const train = async (m: typeof model) => {
    m.zeroGrad();
    await m.forwardBackward(batch, coeffs);
    await m.step({ lr: 1e-2, weightDecay: 0.01 });
  };
  await train(model);
  await saveCheckpoint(dir, model, { optimizer: true });
  const resumed = await loadCheckpoint(dir, be);
  assert(resumed.optimizerRestored);
  assertEquals(resumed.model.stepCount, 1);
  await train(model);
  await train(resumed.model);
  assertEquals(await resumed.model.logprobs(batch), await model.logprobs(batch));
  const rm = await model.clone({ head: "scalar" });
  rm.setParam("score.weight", randn(3, 16));
  await saveCheckpoint(dir, rm);
  const rmLoaded = (await loadCheckpoint(dir, be)).model;
  assertEquals(rmLoaded.head, "scalar");
  assertEquals(await rmLoaded.scores(batch), await rm.scores(batch));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: a Hugging Face style bf16 folder with q/k/v biases and tied embeddings loads", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = { ...micro, tie_word_embeddings: true };
  // Written by hand in HF naming (not through saveCheckpoint), with the extra fields a real config has.
  const hfConfig = {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    hidden_act: "silu",
    bos_token_id: 1,
    eos_token_id: 2,
    sliding_window: 4096,
    torch_dtype: "bfloat16",
    transformers_version: "4.43.1",
    ...cfg,
  };
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(hfConfig));
  const tensors: TensorToWrite[] = paramLayout(cfg, "lm").specs.map((s, i) => ({
    name: s.name,
    shape: s.shape,
    data: randn(100 + i, s.size, 0.5),
  }));
  // A tied checkpoint may still carry lm_head.weight; old exports carry rotary inv_freq buffers.
  tensors.push({ name: "lm_head.weight", shape: [13, 16], data: randn(9, 13 * 16) });
  tensors.push({
    name: "model.layers.0.self_attn.rotary_emb.inv_freq",
    shape: [2],
    data: new Float32Array([1, 0.01]),
  });
  await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(tensors, "BF16"));
  const { model } = await loadCheckpoint(dir, createCpuBackend());
  assertEquals(model.config.tie_word_embeddings, true);
  const bias = await model.getParam("model.layers.1.self_attn.k_proj.bias");
  const written = tensors.find((t) => t.name === "model.layers.1.self_attn.k_proj.bias")!.data;
  for (let i = 0; i < bias.length; i++) assert(Math.abs(bias[i] - written[i]) <= 4e-3 * Math.abs(written[i]));
  const lp = (await model.logprobs(batch)).logprobs;
  assert(lp.every(Number.isFinite));
  // An unexpected tensor is an error.
  tensors.push({ name: "model.extra", shape: [1], data: new Float32Array(1) });
  await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(tensors, "BF16"));
  await assertRejects(() => loadCheckpoint(dir, createCpuBackend()), Error, "unexpected tensor");
  await Deno.remove(`${dir}/config.json`);
  await assertRejects(() => loadCheckpoint(dir, createCpuBackend()), Error, "config.json not found");
  await Deno.remove(dir, { recursive: true });
});
