import { assertEquals, assertStringIncludes } from "@std/assert";
import { runCurveSvg } from "./curve.ts";
import type { StepMetrics } from "./metrics.ts";

Deno.test("curve.svg: evaluation pass@1 / pass@k and per-step pass rate and reward", () => {
  const steps = [1, 2, 3].map((step) =>
    ({ step, passRate: step / 10, meanReward: step / 5 - 1 }) as StepMetrics
  );
  const svg = runCurveSvg(
    "run",
    [{ step: 0, pass1: 0.1, passk: 0.3 }, { step: 3, pass1: 0.2, passk: 0.4 }],
    steps,
    4,
  );
  for (const label of ["pass@1 (greedy)", "pass@4", "train pass rate", "mean reward", "RL step"]) {
    assertStringIncludes(svg, label);
  }
  assertEquals(svg.match(/<path /g)?.length, 4);
});
