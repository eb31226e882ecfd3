import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { createRng } from "../../core/random/mod.ts";
import { createCharTokenizer } from "../../core/tokenizer/mod.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { createModel } from "../model/model.ts";
import { runSft, sftSequence } from "./sft.ts";
import { presetConfig } from "../model/config.ts";

const tokenizer = createCharTokenizer();
const problem = { id: "a", source: "t", prompt: "Say 7.", gold: "7", solution: "\\boxed{7}" };

Deno.test("sftSequence: plain prompt, then the solution and the end token", () => {
  const s = sftSequence(tokenizer, problem, "plain");
  assertEquals(tokenizer.decode(s.prompt), "Q: Say 7.\nA: ");
  assertEquals(tokenizer.decode(Array.from(s.response).slice(0, -1)), "\\boxed{7}");
  assertEquals(s.response[s.response.length - 1], tokenizer.eosId);
  assertThrows(
    () => sftSequence(tokenizer, { ...problem, solution: undefined }, "plain"),
    RangeError,
    "no worked",
  );
});

Deno.test("runSft lowers the loss of a tiny model", async () => {
  const config = {
    ...presetConfig("tiny"),
    hidden_size: 16,
    intermediate_size: 48,
    num_hidden_layers: 1,
    vocab_size: tokenizer.vocabSize,
  };
  const model = createModel(config, createCpuBackend(), { seed: 1 });
  const losses: number[] = [];
  const tokens = await runSft(model, tokenizer, [problem], createRng(1), {
    steps: 12,
    batch: 2,
    lr: 2e-2,
    weightDecay: 0,
    maxGradNorm: 1,
    template: "plain",
    onStep: (_, loss) => losses.push(loss),
  });
  assertEquals(tokens, 12 * 2 * 10);
  assert(losses[11] < losses[0] - 0.5, `loss ${losses[0]} -> ${losses[11]}`);
  await assertRejects(
    () =>
      runSft(model, tokenizer, [{ ...problem, solution: undefined }], createRng(1), {
        ...{ steps: 1, batch: 1, lr: 1, weightDecay: 0, maxGradNorm: 1, template: "plain" },
      }),
    RangeError,
    "no problem has a worked solution",
  );
  model.dispose();
});
