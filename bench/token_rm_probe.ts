/**
 * Does the token reward model learn on a task? A frozen SFT policy samples K responses per prompt; each "step"
 * takes the OREAL pairs (one correct, one wrong response per mixed prompt) of a fresh batch of prompts, scores
 * them with the RM before it trains on them (held-out AUC of the mean score, as the trainer logs it), then
 * trains the RM one step on them (plus replayed earlier batches). A fixed held-out set of pairs is scored at
 * the end: AUC, and mean omega- before and from the first wrong token. Every RM form and setting of
 * trainer/rl runs through the same code path as training; the policy is held fixed so that only the RM varies.
 *
 * Run: deno run -A bench/token_rm_probe.ts --sft runs/<run>/sft [--head scalar|logratio|likelihood] [--lr X]
 *      [--steps N] [--prompts N] [--replay N] [--samples pairs|all] [--beta X] [--seed N]
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { generateProblems, type Level } from "../core/data/mod.ts";
import { cosineSchedule, rewardModelLoss, selectPairs, tokenWeights } from "../core/oreal/mod.ts";
import { createRng } from "../core/random/mod.ts";
import { rocAuc } from "../core/stats/mod.ts";
import { createCharTokenizer } from "../core/tokenizer/mod.ts";
import { createCpuBackend } from "../trainer/gpu/cpu/mod.ts";
import { loadCheckpoint } from "../trainer/model/checkpoint.ts";
import { packBatch, type Sequence } from "../trainer/rl/batch.ts";
import { RmReplay } from "../trainer/rl/rm_replay.ts";
import { type Rollout, type RolloutGroup, sampleAndVerify } from "../trainer/rl/rollout.ts";
import { type RmHead, tokenRm } from "../trainer/rl/token_rm.ts";

const { values: a } = benchFlags("Run: deno run -A bench/token_rm_probe.ts --sft DIR [flags]", {
  sft: { type: "string", arg: "DIR", help: "an SFT checkpoint, e.g. runs/<run>/sft (required)" },
  head: {
    type: "string",
    arg: "H",
    default: "scalar",
    help: "token RM form: scalar, logratio or likelihood",
  },
  lr: { type: "string", arg: "X", default: "1e-3", help: "RM learning rate" },
  beta: { type: "string", arg: "X", default: "1", help: "beta of the LM forms" },
  steps: { type: "string", arg: "N", default: "60", help: "RM training steps" },
  prompts: { type: "string", arg: "N", default: "16", help: "prompts per step" },
  replay: { type: "string", arg: "N", default: "0", help: "earlier batches trained on again" },
  samples: { type: "string", arg: "pairs|all", default: "pairs", help: "responses the RM trains on" },
  seed: { type: "string", arg: "N", default: "1", help: "seed" },
  levels: { type: "string", arg: "1,2", default: "1,2", help: "generator levels" },
});
if (!a.sft) throw new Error("--sft DIR is required (an SFT checkpoint, e.g. runs/<run>/sft)");
const steps = Number(a.steps), prompts = Number(a.prompts), lr = Number(a.lr), seed = Number(a.seed);
const levels = a.levels!.split(",").map(Number) as Level[];
const tokenizer = createCharTokenizer();
const backend = createCpuBackend();
const reference = (await loadCheckpoint(a.sft, backend)).model;
const rmModel = await reference.clone({ head: a.head === "scalar" ? "scalar" : "lm" });
const rm = tokenRm(a.head as RmHead, rmModel, reference, Number(a.beta));
const replay = new RmReplay(Number(a.replay));
const sampling = {
  samplesPerPrompt: 8,
  maxNewTokens: 48,
  temperature: 1,
  topP: 0.9,
  topK: 0,
  template: "plain",
} as const;
const train = generateProblems({ seed, count: steps * prompts, split: "train", families: ["chain"], levels });
const heldOut = generateProblems({
  seed: seed + 7919,
  count: 200,
  split: "test",
  families: ["chain"],
  levels,
});
const rng = createRng(seed);

type Labelled = { seq: Sequence; rollout: Rollout };
function pairsOf(groups: RolloutGroup[]): Labelled[] {
  const { kept } = selectPairs(groups.map((g) => ({ correct: g.rollouts.map((r) => r.correct) })), rng);
  return kept.flatMap((p) =>
    [p.correct, p.wrong].map((i) => ({
      seq: { prompt: groups[p.group].prompt, response: groups[p.group].rollouts[i].tokens },
      rollout: groups[p.group].rollouts[i],
    }))
  );
}

async function score(items: Labelled[]) {
  const out: Float32Array[] = [];
  for (let i = 0; i < items.length; i += 64) {
    const chunk = items.slice(i, i + 64).map((x) => x.seq);
    out.push(...await rm.scores(packBatch(chunk, tokenizer.padId), chunk));
  }
  return out;
}

function measure(items: Labelled[], scores: Float32Array[]) {
  const mean = (w: Float32Array) => w.reduce((x, y) => x + y, 0) / Math.max(1, w.length);
  const pos = items.flatMap((x, i) => x.rollout.correct ? [mean(scores[i])] : []);
  const neg = items.flatMap((x, i) => x.rollout.correct ? [] : [mean(scores[i])]);
  let before = 0, nb = 0, after = 0, na = 0;
  items.forEach((x, i) => {
    const dep = x.rollout.departure?.token;
    if (x.rollout.correct || dep === undefined) return;
    const w = tokenWeights(scores[i]).negative;
    for (let t = 0; t < w.length; t++) t < dep ? (before += w[t], nb++) : (after += w[t], na++);
  });
  return { auc: rocAuc(pos, neg), before: nb ? before / nb : NaN, after: na ? after / na : NaN };
}

const t0 = performance.now();
const test = pairsOf(await sampleAndVerify(reference, tokenizer, heldOut, { ...sampling, seed: seed + 1 }));
console.log(
  `head ${a.head} lr ${lr} replay ${a.replay} samples ${a.samples}; ${test.length} held-out responses`,
);
const fresh: number[] = [];
for (let step = 0; step < steps; step++) {
  const groups = await sampleAndVerify(
    reference,
    tokenizer,
    train.slice(step * prompts, (step + 1) * prompts),
    {
      ...sampling,
      seed: seed * 1000 + step,
    },
  );
  const pairs = pairsOf(groups);
  if (pairs.length === 0) continue;
  const batchItems = a.samples === "all"
    ? groups.filter((g) => g.rollouts.some((r) => r.correct) && g.rollouts.some((r) => !r.correct))
      .flatMap((g) => g.rollouts.map((r) => ({ seq: { prompt: g.prompt, response: r.tokens }, rollout: r })))
    : pairs;
  const stepAuc = measure(pairs, await score(pairs)).auc;
  if (stepAuc !== null) fresh.push(stepAuc);
  const items = [...batchItems.map((x) => ({ seq: x.seq, correct: x.rollout.correct })), ...replay.items()];
  const seqs = items.map((x) => x.seq);
  const batch = packBatch(seqs, tokenizer.padId);
  const scores = await rm.scores(batch, seqs);
  const grads = scores.map((w, i) =>
    rewardModelLoss(w, items[i].correct).dScores.map((g) => g / items.length)
  );
  await rm.backward(batch, seqs, grads);
  await rm.step({
    lr: cosineSchedule(step, { warmup: 10, total: steps, lr, minLr: lr / 5 }),
    weightDecay: 0.01,
    maxGradNorm: 1,
  });
  replay.add(batchItems.map((x) => ({ seq: x.seq, correct: x.rollout.correct })));
  if ((step + 1) % 10 === 0) {
    const last = fresh.slice(-10);
    console.log(
      `step ${step + 1}: fresh-batch AUC (last 10 steps) ${
        (last.reduce((x, y) => x + y, 0) / last.length).toFixed(3)
      }` +
        ` (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
}
const end = measure(test, await score(test));
console.log(
  `held-out: AUC ${end.auc?.toFixed(3)}, omega- before the first wrong token ${end.before.toFixed(3)}, ` +
    `from it ${end.after.toFixed(3)} (ratio ${(end.after / end.before).toFixed(2)})`,
);
