import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { rewardModelLoss } from "../../core/oreal/mod.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { createModel } from "../model/model.ts";
import { packBatch } from "./batch.ts";
import { type RmHead, tokenRm } from "./token_rm.ts";
import { presetConfig } from "../model/config.ts";

const config = {
  ...presetConfig("tiny"),
  hidden_size: 16,
  intermediate_size: 48,
  num_hidden_layers: 1,
  vocab_size: 12,
};
const seqs = [
  { prompt: Uint32Array.from([3, 4]), response: Uint32Array.from([5, 6, 7]) },
  { prompt: Uint32Array.from([3, 8]), response: Uint32Array.from([9, 1]) },
];

async function trainOnce(head: RmHead, labels: boolean[]) {
  const be = createCpuBackend();
  const reference = createModel(config, be, { seed: 2 });
  const model = await reference.clone({ head: head === "scalar" ? "scalar" : "lm" });
  const rm = tokenRm(head, model, reference, 2);
  const batch = packBatch(seqs, 0);
  const before = await rm.scores(batch, seqs);
  const grads = before.map((w, i) => rewardModelLoss(w, labels[i]).dScores);
  await rm.backward(batch, seqs, grads);
  await rm.step({ lr: 0.05, weightDecay: 0, maxGradNorm: 0 });
  return { before, after: await rm.scores(batch, seqs), rm };
}

const mean = (w: Float32Array) => w.reduce((a, b) => a + b, 0) / w.length;

Deno.test("tokenRm: every form starts neutral and one BCE step moves each response's score toward its label", async () => {
  for (const head of ["scalar", "logratio", "likelihood"] as const) {
    const { before, after, rm } = await trainOnce(head, [true, false]);
    if (head === "likelihood") {
      // Centred on the first batch: the responses' mean scores average 0, and the bias has been learned since.
      assertAlmostEquals((mean(before[0]) + mean(before[1])) / 2, 0, 1e-5);
      assertEquals(rm.bias()!.t, 1);
    } else {
      for (const w of before) for (const v of w) assertAlmostEquals(v, 0, 1e-6, head);
      assertEquals(rm.bias(), null);
    }
    assertEquals(after.map((w) => w.length), [3, 2]);
    assert(mean(after[0]) > 0, `${head}: the correct response's score did not rise: ${mean(after[0])}`);
    assert(mean(after[1]) < 0, `${head}: the wrong response's score did not fall: ${mean(after[1])}`);
  }
});

Deno.test("tokenRm: refuses a model of the wrong head and a non-positive beta", async () => {
  const be = createCpuBackend();
  const lm = createModel(config, be, { seed: 1 });
  const scalar = await lm.clone({ head: "scalar" });
  assertThrows(() => tokenRm("scalar", lm, lm, 1), RangeError, "scalar head");
  assertThrows(() => tokenRm("logratio", scalar, lm, 1), RangeError, "LM head");
  assertThrows(() => tokenRm("logratio", lm, lm, 0), RangeError, "beta");
});
