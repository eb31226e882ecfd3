/**
 * `curve.svg` of a run: held-out pass@1 (and pass@k) at each evaluation, and the training pass rate and mean
 * reward of each RL step.
 *
 * @module
 */

import type { StepMetrics } from "./metrics.ts";
import { renderChart } from "./svg.ts";

/** One held-out evaluation of a run (step 0: the SFT model). */
export interface EvalPoint {
  step: number;
  pass1: number;
  passk: number;
}

/** The SVG of a run's curves. `k` names the pass@k series. Throws when there is nothing to draw. */
export function runCurveSvg(
  title: string,
  evals: readonly EvalPoint[],
  steps: readonly StepMetrics[],
  k: number,
): string {
  return renderChart({
    title,
    xLabel: "RL step (0 = SFT model)",
    panels: [
      {
        yLabel: "held-out accuracy (%)",
        yMin: 0,
        yMax: 100,
        series: [
          { name: "pass@1 (greedy)", markers: true, points: evals.map((e) => [e.step, 100 * e.pass1]) },
          {
            name: `pass@${k}`,
            markers: true,
            dashed: true,
            points: evals.map((e) => [e.step, 100 * e.passk]),
          },
          { name: "train pass rate", points: steps.map((m) => [m.step, 100 * m.passRate]) },
        ],
      },
      {
        yLabel: "mean reward",
        yMin: -1,
        yMax: 1,
        series: [{ name: "mean reward", points: steps.map((m) => [m.step, m.meanReward]) }],
      },
    ],
  });
}
