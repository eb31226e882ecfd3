import { assertAlmostEquals, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ablationMarkdown, ablationRows, ablationSvg, meanStd, orderingVerdict } from "./ablation.ts";
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
    best_pass1: final,
    best_step: 10,
    evals: [{ step: 0, pass1: sft, passk: sft }, { step: 10, pass1: final, passk: final }],
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

Deno.test("meanStd uses the sample standard deviation", () => {
  const r = meanStd([1, 2, 3]);
  assertEquals(r.mean, 2);
  assertAlmostEquals(r.std, 1, 1e-12);
  assertEquals(meanStd([5]).std, 0);
  assertThrows(() => meanStd([]));
});

Deno.test("ablation table: one row per method, mean ± spread over seeds, ordering verdict", () => {
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
  assertAlmostEquals(rows[0].final.mean, 0.45, 1e-12);
  assertEquals(rows[0].seeds, [1, 2]);
  const md = ablationMarkdown(runs, ["command: deno task ablate"]);
  assertStringIncludes(md, "| oreal | 1, 2 | 20.0 ± 0.0 | 45.0 ± 7.1 |");
  assertStringIncludes(md, "command: deno task ablate");
  assertStringIncludes(md, "holds");
  const broken = orderingVerdict(ablationRows([...runs.slice(2), summary("oreal", 1, 0.2, 0.1), runs[2]]));
  assertStringIncludes(broken!, "does not hold");
  const grpoLow = orderingVerdict(ablationRows([runs[0], runs[2], summary("grpo", 1, 0.2, 0.1), runs[4]]));
  assertStringIncludes(grpoLow!, "(grpo ≤ reinforce)");
  assertEquals(orderingVerdict(ablationRows([runs[0]])), null);
  const svg = ablationSvg(runs);
  assertEquals(svg.match(/<path /g)?.length, 5);
});
