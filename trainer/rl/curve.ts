/**
 * `curve.svg` of a run: held-out pass@1, mean@k and pass@k at each evaluation with the training pass rate of
 * each RL step; the mean reward; and, for methods with a token reward model, its held-out AUC and mean omega-
 * before and from the first wrong token.
 *
 * @module
 */

import type { EvalPoint, StepMetrics } from "./metrics.ts";
import { type Panel, renderChart, type Series } from "./svg.ts";

/** Points of one per-step metric, skipping the steps where it is null. */
function pointsOf(
  steps: readonly StepMetrics[],
  value: (m: StepMetrics) => number | null,
): [number, number][] {
  const out: [number, number][] = [];
  for (const m of steps) {
    const v = value(m);
    if (v !== null && Number.isFinite(v)) out.push([m.step, v]);
  }
  return out;
}

/** The token RM panel, or null when no step has RM diagnostics. */
function rmPanel(steps: readonly StepMetrics[]): Panel | null {
  const series: Series[] = [
    { name: "RM AUC (pooled)", points: pointsOf(steps, (m) => m.rmAucPooled) },
    { name: "RM AUC (step)", dashed: true, points: pointsOf(steps, (m) => m.rmAuc) },
    { name: "omega- before 1st wrong", points: pointsOf(steps, (m) => m.omegaNegBefore) },
    { name: "omega- from 1st wrong", points: pointsOf(steps, (m) => m.omegaNegAfter) },
  ].filter((s) => s.points.length > 0);
  return series.length ? { yLabel: "token RM", yMin: 0, yMax: 1, series } : null;
}

/** The SVG of a run's curves. `k` names the pass@k and mean@k series. */
export function runCurveSvg(
  title: string,
  evals: readonly EvalPoint[],
  steps: readonly StepMetrics[],
  k: number,
): string {
  const rm = rmPanel(steps);
  return renderChart({
    title,
    xLabel: "RL step (0 = SFT model)",
    panels: [
      {
        yLabel: "held-out accuracy (%)",
        yMin: 0,
        yMax: 100,
        series: [
          {
            name: "pass@1 (greedy, 95% CI)",
            markers: true,
            points: evals.map((e) => [e.step, 100 * e.pass1]),
            intervals: evals.map((e) => e.pass1Ci95.map((v) => 100 * v) as [number, number]),
          },
          {
            name: `pass@${k}`,
            markers: true,
            dashed: true,
            points: evals.filter((e) => Number.isFinite(e.passk)).map((e) => [e.step, 100 * e.passk]),
          },
          {
            name: `mean@${k} (95% CI)`,
            markers: true,
            points: evals.filter((e) => e.meank !== null).map((e) => [e.step, 100 * (e.meank as number)]),
            intervals: evals.filter((e) => e.meank !== null).map((e) =>
              (e.meankCi95 ?? [NaN, NaN]).map((v) => 100 * v) as [number, number]
            ),
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
      ...(rm ? [rm] : []),
    ],
  });
}
