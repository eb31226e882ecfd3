import { assert, assertEquals, assertRejects } from "@std/assert";
import { createCharTokenizer } from "../../core/tokenizer/mod.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { createModel } from "../model/model.ts";
import { evaluate } from "./evaluate.ts";
import { encodePrompt, sampleAndVerify } from "./rollout.ts";
import { presetConfig } from "../model/config.ts";

const tokenizer = createCharTokenizer();
const config = {
  ...presetConfig("tiny"),
  hidden_size: 16,
  intermediate_size: 48,
  num_hidden_layers: 1,
  vocab_size: tokenizer.vocabSize,
};
const problems = ["1", "2"].map((gold) => ({ id: gold, source: "t", prompt: `Say ${gold}.`, gold }));

Deno.test("sampleAndVerify: K responses per prompt in order; a response cut by the length limit is wrong", async () => {
  const model = createModel(config, createCpuBackend(), { seed: 1 });
  assertEquals(tokenizer.decode(encodePrompt(tokenizer, problems[0], "plain")), "Q: Say 1.\nA: ");
  const groups = await sampleAndVerify(model, tokenizer, problems, {
    samplesPerPrompt: 3,
    maxNewTokens: 4,
    temperature: 1,
    topP: 1,
    topK: 0,
    seed: 2,
    template: "plain",
  });
  assertEquals(groups.map((g) => g.problem.gold), ["1", "2"]);
  for (const g of groups) {
    assertEquals(g.rollouts.map((r) => r.sampleIndex), [0, 1, 2]);
    for (const r of g.rollouts) {
      assert(r.tokens.length <= 4);
      if (r.finishReason === "length") assertEquals(r.correct, false);
      if (r.finishReason === "stop") assertEquals(r.tokens[r.tokens.length - 1], tokenizer.eosId);
    }
  }
  const { metrics, tokens } = await evaluate(model, tokenizer, problems, {
    k: 2,
    maxNewTokens: 4,
    temperature: 1,
    topP: 1,
    seed: 3,
    template: "plain",
  });
  assertEquals([metrics.k, metrics.problems], [2, 2]);
  assert(metrics.pass1 >= 0 && metrics.pass1 <= 1 && metrics.passK >= 0 && metrics.passK <= 1);
  assert(tokens > 0 && tokens <= 2 * 4 * 3);
  await assertRejects(() =>
    evaluate(model, tokenizer, [], {
      k: 1,
      maxNewTokens: 1,
      temperature: 1,
      topP: 1,
      seed: 1,
      template: "plain",
    })
  );
  model.dispose();
});
