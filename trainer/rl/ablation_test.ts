import { assertAlmostEquals, assertEquals, assertStringIncludes } from "@std/assert";
import {
  ablationCurveSvg,
  ablationMarkdown,
  ablationRows,
  ablationSvg,
  orderingVerdict,
  seedStat,
} from "./ablation.ts";
import type { RunSummary } from "./metrics.ts";

function summary(method: string, seed: number, sft: number, final: number): RunSummary {
  return {
    name: `${method}-${seed}`,
    method,
    preset: "tiny",
    seed,
    backend: "cpu",
    adapter: null,
    steps: 10,
    sft_steps: 5,
    sft_pass1: sft,
    final_pass1: final,
    final_passk: null,
    k: 4,
    sft_pass1_ci95: [sft - 0.05, sft + 0.05],
    final_pass1_ci95: [final - 0.05, final + 0.05],
    gain_ci95: [final - sft - 0.04, final - sft + 0.04],
    sft_meank: sft,
    final_meank: final - 0.1,
    final_meank_ci95: null,
    sft_faithfulness: 0.9,
    train_pass_rate_start: 0.2,
    train_pass_rate_end: 0.4,
    final_kl: 0.01,
    final_rm_auc: method === "oreal" ? 0.7 : null,
    final_omega_neg_before: null,
    final_omega_neg_after: null,
    best_pass1: final,
    best_step: 10,
    evals: [
      {
        step: 0,
        pass1: sft,
        passk: sft,
        meank: sft,
        pass1Ci95: [sft, sft],
        meankCi95: null,
        faithfulness: null,
      },
      {
        step: 10,
        pass1: final,
        passk: final,
        meank: final,
        pass1Ci95: [final, final],
        meankCi95: null,
        faithfulness: null,
      },
    ],
    wall_seconds: 60,
    tokens_per_second: 100,
    tokens_per_second_by_phase: { sft: 1, sampling: 1, scoring: 1, update: 1, eval: 1 },
    seconds_by_phase: { sft: 1, sampling: 1, scoring: 1, update: 1, eval: 1 },
    sampled_responses: 640,
    test_problems: 50,
    train_problems: 100,
    resumed: false,
  };
}

Deno.test("seedStat: mean and Student's t interval of the non-null values", () => {
  const s = seedStat([0.5, null, 0.6, 0.7])!;
  assertAlmostEquals(s.mean, 0.6, 1e-12);
  assertAlmostEquals(s.ci95[0], 0.351566, 1e-5); // 0.6 - 4.303 * 0.1 / sqrt(3)
  assertEquals(s.n, 3);
  assertEquals(seedStat([null]), null);
});

Deno.test("ablation table: one row per method with 95% intervals across seeds, ordering verdict", () => {
  const runs = [
    summary("oreal", 1, 0.2, 0.5),
    summary("oreal", 2, 0.2, 0.4),
    summary("oreal-no-rm", 1, 0.2, 0.35),
    summary("grpo", 1, 0.2, 0.3),
    summary("reinforce", 1, 0.2, 0.25),
    summary("rft", 1, 0.2, 0.3),
  ];
  const rows = ablationRows(runs);
  assertEquals(rows.map((r) => r.method), ["oreal", "oreal-no-rm", "grpo", "reinforce", "rft"]);
  assertAlmostEquals(rows[0].final!.mean, 0.45, 1e-12);
  assertEquals(rows[0].seeds, [1, 2]);
  assertEquals(rows[1].rmAuc, null);
  const md = ablationMarkdown(runs, ["command: deno task ablate"]);
  // 0.45 ± 12.706 * 0.0707107 / sqrt(2) = 0.45 ± 0.63530: [-18.5, 108.5] in percent.
  assertStringIncludes(md, "| oreal | 1, 2 | 20.0 [20.0, 20.0] | 45.0 [-18.5, 108.5] |");
  assertStringIncludes(md, "| 0.70 [0.70, 0.70] |");
  assertStringIncludes(md, "command: deno task ablate");
  assertStringIncludes(md, "holds");
  const broken = orderingVerdict(ablationRows([...runs.slice(2), summary("oreal", 1, 0.2, 0.1), runs[2]]));
  assertStringIncludes(broken!, "does not hold");
  const grpoLow = orderingVerdict(ablationRows([runs[0], runs[2], summary("grpo", 1, 0.2, 0.1), runs[4]]));
  assertStringIncludes(grpoLow!, "(grpo ≤ reinforce)");
  assertEquals(orderingVerdict(ablationRows([runs[0]])), null);
  const bars = ablationSvg(runs);
  // 5 methods x 4 metrics + 1 RM AUC bar (oreal only).
  assertEquals(bars.match(/class="bar"/g)?.length, 21);
  assertEquals(ablationCurveSvg(runs).match(/<path /g)?.length, 5);
});
