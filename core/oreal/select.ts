/**
 * Which sampled responses enter the policy update (docs/OREAL.md step 4 and the baselines' table).
 *
 * @module
 */

import type { Rng } from "../random/mod.ts";
import { grpoAdvantages, rlooAdvantages } from "./advantages.ts";
import { isMethod, isOrealLoss, type Method, METHODS } from "./method.ts";

/** The verdicts of the K responses sampled for one prompt (index = response index). */
export interface GroupOutcome {
  /** `correct[i]` is true when response i was verified correct. */
  readonly correct: readonly boolean[];
}

/** One correct and one wrong response kept from a mixed group. */
export interface SelectedPair {
  /** Index of the group (prompt) in the input. */
  group: number;
  /** Index of the kept correct response within the group. */
  correct: number;
  /** Index of the kept wrong response within the group. */
  wrong: number;
}

function passRates(name: string, groups: readonly GroupOutcome[]): number[] {
  return groups.map((g, i) => {
    if (!g || !Array.isArray(g.correct) || g.correct.length === 0) {
      throw new RangeError(`${name}: group ${i} has no responses`);
    }
    let c = 0;
    for (const ok of g.correct) if (ok) c++;
    return c / g.correct.length;
  });
}

/**
 * Drops groups whose pass rate is 0 or 1 and keeps one correct and one wrong response of each remaining group,
 * each drawn uniformly with `rng` (two `nextInt` calls per mixed group, correct first, in group order).
 * Returns the kept pairs in group order and the pass rate of every input group (dropped ones included).
 * Throws on an empty group.
 */
export function selectPairs(
  groups: readonly GroupOutcome[],
  rng: Rng,
): { kept: SelectedPair[]; passRates: number[] } {
  const rates = passRates("selectPairs", groups);
  const kept: SelectedPair[] = [];
  groups.forEach((g, group) => {
    if (rates[group] === 0 || rates[group] === 1) return;
    const right: number[] = [];
    const wrong: number[] = [];
    g.correct.forEach((ok, i) => (ok ? right : wrong).push(i));
    kept.push({ group, correct: right[rng.nextInt(right.length)], wrong: wrong[rng.nextInt(wrong.length)] });
  });
  return { kept, passRates: rates };
}

/** A response chosen for the update, with the `advantage` to put in its `PolicySample`. */
export interface UpdateSample {
  /** Index of the group (prompt) in the input. */
  group: number;
  /** Index of the response within its group. */
  index: number;
  /** Its verdict. */
  correct: boolean;
  /**
   * What `tokenCoefficients` expects in `PolicySample.advantage` for this method: oreal / oreal-no-rm: the
   * RLOO (or GRPO, by option) advantage over all K responses; grpo: the GRPO advantage A_i; reinforce: the
   * reward r_i (±1); rft: 1 (unused).
   */
  advantage: number;
}

/** Options of {@linkcode updateSamples}. */
export interface UpdateSampleOptions {
  /** Advantage estimator of the OREAL methods: "rloo" (default, docs/OREAL.md) or "grpo". */
  advantage?: "rloo" | "grpo";
}

/**
 * The responses each method trains on, from the verdicts of every group (reward +1 correct, -1 wrong):
 * - oreal, oreal-oracle, oreal-no-rm: one correct + one wrong response per mixed group ({@linkcode selectPairs},
 *   same `rng` draws), correct first; advantages over all K responses (RLOO by default).
 * - grpo: all K responses of mixed groups, with GRPO advantages (all-equal groups would have A = 0).
 * - reinforce: all K responses of every group, advantage = reward (±1).
 * - reinforce-01: all K responses of every group, advantage = the paper's 0/1 reward (wrong responses get 0).
 * - rft: the correct responses of every group, advantage 1.
 * Samples are in group order, then response order (pairs: correct, wrong). `rng` is used by the OREAL methods
 * only. Returns the samples and every group's pass rate. Throws on an unknown method or an empty group.
 */
export function updateSamples(
  method: Method,
  groups: readonly GroupOutcome[],
  rng: Rng,
  options: UpdateSampleOptions = {},
): { samples: UpdateSample[]; passRates: number[] } {
  if (!isMethod(method)) {
    throw new RangeError(`updateSamples: unknown method "${method}" (expected one of ${METHODS.join(", ")})`);
  }
  const estimator = options.advantage ?? "rloo";
  if (estimator !== "rloo" && estimator !== "grpo") {
    throw new RangeError(
      `updateSamples: unknown advantage estimator "${estimator}" (expected "rloo" or "grpo")`,
    );
  }
  const rewardsOf = (g: GroupOutcome) => g.correct.map((ok) => (ok ? 1 : -1));
  const samples: UpdateSample[] = [];
  if (isOrealLoss(method)) {
    const { kept, passRates } = selectPairs(groups, rng);
    for (const pair of kept) {
      const rewards = rewardsOf(groups[pair.group]);
      const adv = estimator === "rloo" ? rlooAdvantages(rewards) : grpoAdvantages(rewards);
      samples.push({ group: pair.group, index: pair.correct, correct: true, advantage: adv[pair.correct] });
      samples.push({ group: pair.group, index: pair.wrong, correct: false, advantage: adv[pair.wrong] });
    }
    return { samples, passRates };
  }
  const rates = passRates("updateSamples", groups);
  groups.forEach((g, group) => {
    const mixed = rates[group] > 0 && rates[group] < 1;
    if (method === "grpo") {
      if (!mixed) return;
      const adv = grpoAdvantages(rewardsOf(g));
      g.correct.forEach((ok, index) => samples.push({ group, index, correct: ok, advantage: adv[index] }));
    } else if (method === "reinforce" || method === "reinforce-01") {
      const wrong = method === "reinforce" ? -1 : 0;
      g.correct.forEach((ok, index) =>
        samples.push({ group, index, correct: ok, advantage: ok ? 1 : wrong })
      );
    } else {
      g.correct.forEach((ok, index) => {
        if (ok) samples.push({ group, index, correct: true, advantage: 1 });
      });
    }
  });
  return { samples, passRates: rates };
}
