import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { createRng } from "../../core/random/mod.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { createModel, type Model } from "../model/model.ts";
import { PhaseClock } from "./metrics.ts";
import { type Models, omegaTrust, type UpdateOptions, updateStep } from "./rl_step.ts";
import { RmMonitor } from "./rm_monitor.ts";
import { RmReplay } from "./rm_replay.ts";
import { tokenRm } from "./token_rm.ts";
import type { RolloutGroup } from "./rollout.ts";
import { presetConfig } from "../model/config.ts";

const config = {
  ...presetConfig("tiny"),
  hidden_size: 16,
  intermediate_size: 48,
  num_hidden_layers: 1,
  vocab_size: 20,
};
const problem = { id: "p", source: "t", prompt: "q", gold: "1" };

function group(verdicts: boolean[]): RolloutGroup {
  return {
    problem,
    prompt: Uint32Array.from([3, 4, 5]),
    rollouts: verdicts.map((correct, i) => ({
      problem,
      sampleIndex: i,
      tokens: Uint32Array.from([6 + i, 7, 1]),
      text: "",
      finishReason: "stop" as const,
      correct,
      status: correct ? "correct" : "wrong",
      extracted: null,
      departure: correct ? null : { step: 0, token: 1 },
    })),
  };
}

async function models(withRm: boolean): Promise<Models> {
  const be = createCpuBackend();
  const policy = createModel(config, be, { seed: 1 });
  return {
    policy,
    reference: await policy.clone(),
    rewardModel: withRm ? tokenRm("scalar", await policy.clone({ head: "scalar" }), policy, 1) : null,
  };
}

const options = (method: UpdateOptions["method"], step: number): UpdateOptions => ({
  method,
  step,
  totalSteps: 10,
  lr: 1e-2,
  minLr: 1e-3,
  warmupSteps: 0,
  weightDecay: 0,
  maxGradNorm: 1,
  kl: 0.01,
  rmLr: 1e-2,
  rmLrWarmup: 0,
  rmWarmupSteps: 1,
  rmSamples: "pairs",
  omegaGate: "off",
  omegaGateAuc: 0.6,
  padId: 0,
});

const embed = (m: Model) => m.getParam("model.embed_tokens.weight");
const groups = [
  group([true, false, false, true]),
  group([false, false, false, false]),
  group([true, true, true, true]),
];

Deno.test("oreal: one pair per mixed prompt; the RM warm-up step updates only the RM, then the policy moves", async () => {
  const ms = await models(true);
  const before = await embed(ms.policy);
  const clock = new PhaseClock();
  const warm = await updateStep(ms, groups, createRng(1), options("oreal", 1), clock);
  assertEquals(warm.updateSequences, 2);
  assertEquals([...warm.kept.keys()].map((k) => k.split(":")[0]), ["0", "0"]);
  assertEquals(warm.policyUpdated, false);
  assertAlmostEquals(warm.rmLoss!, Math.log(2), 1e-6); // the zero-initialised head scores 0
  assertEquals(await embed(ms.policy), before);
  assert(clock.phases.scoring.tokens > 0 && clock.phases.update.tokens > 0);
  const next = await updateStep(ms, groups, createRng(1), options("oreal", 2), clock);
  assertEquals(next.policyUpdated, true);
  assert(next.rmLoss! < Math.log(2), `RM loss ${next.rmLoss}`);
  assert((await embed(ms.policy)).some((v, i) => v !== before[i]));
  assert(Number.isFinite(next.entropy) && next.kl >= 0);
});

Deno.test("baselines: which responses each method trains on", async () => {
  const clock = new PhaseClock();
  const expected: [UpdateOptions["method"], number][] = [
    ["oreal-no-rm", 2],
    ["oreal-oracle", 2],
    ["grpo", 4],
    ["reinforce", 12],
    ["reinforce-01", 12],
    ["rft", 6],
  ];
  for (const [method, sequences] of expected) {
    const ms = await models(false);
    const r = await updateStep(ms, groups, createRng(1), options(method, 1), clock);
    assertEquals(r.updateSequences, sequences, method);
    assertEquals(r.policyUpdated, true, method);
    assert(r.gradNorm > 0, method);
  }
  const ms = await models(false);
  const none = await updateStep(ms, [groups[1]], createRng(1), options("grpo", 1), clock);
  assertEquals([none.updateSequences, none.policyUpdated], [0, false]);
});

Deno.test("oreal: RM diagnostics on the fresh batch, the AUC gate, replay and training on all responses", async () => {
  const ms = await models(true);
  const clock = new PhaseClock();
  const memory = { monitor: new RmMonitor(3), replay: new RmReplay(2) };
  const gated = {
    ...options("oreal", 2),
    omegaGate: "auc" as const,
    omegaGateAuc: 0.99,
    rmSamples: "all" as const,
  };
  const r = await updateStep(ms, groups, createRng(1), gated, clock, memory);
  // A zero head scores every response 0: AUC 0.5 (all ties), omega 0, and the gate keeps omega at 1.
  assertEquals([r.rmAuc, r.rmAucPooled, r.omegaTrust], [0.5, 0.5, 0]);
  assertEquals([r.omegaPositive, r.omegaNegative, r.omegaNegBefore, r.omegaNegAfter], [0, 0, 0, 0]);
  // With omega = 1 the policy gets the oreal-no-rm update: a non-zero gradient.
  assert(r.policyUpdated && r.gradNorm > 0);
  // "all": the RM trained on the 4 responses of the mixed prompt, which the replay buffer now holds.
  assertEquals(memory.replay.items().length, 4);
  const again = await updateStep(ms, groups, createRng(2), gated, clock, memory);
  assertEquals(memory.replay.items().length, 8);
  assert(again.rmAuc !== null && again.omegaPositive! > 0, "the trained head no longer scores 0");
});

Deno.test("omegaTrust: off, the hard AUC gate and the blend", () => {
  assertEquals(omegaTrust("off", null, 0.8), 1);
  assertEquals([omegaTrust("auc", 0.79, 0.8), omegaTrust("auc", 0.8, 0.8), omegaTrust("auc", null, 0.8)], [
    0,
    1,
    0,
  ]);
  // blend: (AUC - 0.5) / (0.8 - 0.5), clamped.
  assertAlmostEquals(omegaTrust("blend", 0.62, 0.8), 0.4, 1e-12);
  assertEquals([
    omegaTrust("blend", 0.45, 0.8),
    omegaTrust("blend", 0.95, 0.8),
    omegaTrust("blend", null, 0.8),
  ], [0, 1, 0]);
});
