import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { runCurveSvg } from "./curve.ts";
import type { StepMetrics } from "./metrics.ts";

const evals = [
  {
    step: 0,
    pass1: 0.1,
    passk: 0.3,
    meank: 0.15,
    pass1Ci95: [0.05, 0.2] as [number, number],
    meankCi95: null,
    faithfulness: null,
  },
  {
    step: 3,
    pass1: 0.2,
    passk: 0.4,
    meank: 0.2,
    pass1Ci95: [0.1, 0.3] as [number, number],
    meankCi95: null,
    faithfulness: null,
  },
];

Deno.test("curve.svg: evaluation pass@1 / pass@k / mean@k and per-step pass rate and reward", () => {
  const steps = [1, 2, 3].map((step) =>
    ({ step, passRate: step / 10, meanReward: step / 5 - 1 }) as StepMetrics
  );
  const svg = runCurveSvg("run", evals, steps, 4);
  for (
    const label of [
      "pass@1 (greedy, 95% CI)",
      "pass@4",
      "mean@4",
      "train pass rate",
      "mean reward",
      "RL step",
    ]
  ) {
    assertStringIncludes(svg, label);
  }
  // 5 lines and one error bar per evaluation with a pass@1 interval.
  assertEquals(svg.match(/<path d=/g)?.length, 5);
  assertEquals(svg.match(/class="err"/g)?.length, 2);
  assert(!svg.includes("token RM"), "no RM panel without RM diagnostics");
});

Deno.test("curve.svg: a third panel with the token RM's AUC and omega- before/after the first wrong token", () => {
  const steps = [1, 2, 3].map((step) =>
    ({
      step,
      passRate: 0.3,
      meanReward: -0.4,
      rmAuc: step === 1 ? null : 0.5 + step / 10,
      rmAucPooled: 0.5 + step / 20,
      omegaNegBefore: 0.2,
      omegaNegAfter: 0.5,
    }) as StepMetrics
  );
  const svg = runCurveSvg("run", evals, steps, 4);
  for (
    const label of [
      "token RM",
      "RM AUC (pooled)",
      "RM AUC (step)",
      "omega- before 1st wrong",
      "omega- from 1st wrong",
    ]
  ) {
    assertStringIncludes(svg, label);
  }
  assertEquals(svg.match(/<path d=/g)?.length, 9);
});
