/**
 * The ablation report from the summaries of its runs: `ablation.md` (one row per method: mean and 95% interval
 * across seeds of final and best pass@1, the gain over the SFT model, mean@k, the sampled training pass rate at
 * the end, the KL to the reference and the token RM's AUC), `ablation.svg` (the same as bars with error bars)
 * and `ablation_curve.svg` (mean held-out pass@1 against RL step, one line per method).
 *
 * @module
 */

import { type Interval, seedInterval } from "../../core/stats/mod.ts";
import { type Bar, renderBars } from "./bars.ts";
import type { RunSummary } from "./metrics.ts";
import { renderChart, type Series } from "./svg.ts";

/** A mean over seeds with its 95% Student's t interval (null when no run has the figure). */
export interface SeedStat {
  mean: number;
  ci95: Interval;
  n: number;
}

/** Mean and 95% t interval of the non-null values, or null when there are none. */
export function seedStat(values: readonly (number | null)[]): SeedStat | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, ci95: seedInterval(v), n: v.length };
}

/** One row of the ablation table. */
export interface AblationRow {
  method: string;
  seeds: number[];
  sft: SeedStat | null;
  final: SeedStat | null;
  best: SeedStat | null;
  gain: SeedStat | null;
  meank: SeedStat | null;
  trainPassEnd: SeedStat | null;
  kl: SeedStat | null;
  rmAuc: SeedStat | null;
  perSeed: number[];
  sampledResponses: number;
  wallSeconds: number;
}

/** Groups summaries by method (in first-seen order) into table rows. */
export function ablationRows(summaries: readonly RunSummary[]): AblationRow[] {
  const byMethod = new Map<string, RunSummary[]>();
  for (const s of summaries) {
    if (!byMethod.has(s.method)) byMethod.set(s.method, []);
    byMethod.get(s.method)!.push(s);
  }
  return [...byMethod].map(([method, runs]) => {
    runs.sort((a, b) => a.seed - b.seed);
    const stat = (f: (r: RunSummary) => number | null | undefined) => seedStat(runs.map((r) => f(r) ?? null));
    return {
      method,
      seeds: runs.map((r) => r.seed),
      sft: stat((r) => r.sft_pass1),
      final: stat((r) => r.final_pass1),
      best: stat((r) => r.best_pass1),
      gain: stat((r) => r.final_pass1 - r.sft_pass1),
      meank: stat((r) => r.final_meank),
      trainPassEnd: stat((r) => r.train_pass_rate_end),
      kl: stat((r) => r.final_kl),
      rmAuc: stat((r) => r.final_rm_auc),
      perSeed: runs.map((r) => r.final_pass1),
      sampledResponses: runs.reduce((a, r) => a + r.sampled_responses, 0) / runs.length,
      wallSeconds: runs.reduce((a, r) => a + r.wall_seconds, 0) / runs.length,
    };
  });
}

const pct = (x: number) => (100 * x).toFixed(1);
/** `45.0 [40.2, 49.8]` in percent, or `-` without a value. */
const pctCi = (s: SeedStat | null) => s ? `${pct(s.mean)} [${pct(s.ci95[0])}, ${pct(s.ci95[1])}]` : "-";
const numCi = (s: SeedStat | null, digits: number) =>
  s ? `${s.mean.toFixed(digits)} [${s.ci95[0].toFixed(digits)}, ${s.ci95[1].toFixed(digits)}]` : "-";

/**
 * The paper's expected ordering (oreal > oreal-no-rm > grpo > reinforce) checked on mean final pass@1:
 * returns a sentence saying whether it holds, or null when a method of the chain is missing.
 */
export function orderingVerdict(rows: readonly AblationRow[]): string | null {
  const chain = ["oreal", "oreal-no-rm", "grpo", "reinforce"];
  const found = chain.map((m) => rows.find((r) => r.method === m));
  if (found.some((r) => r === undefined || r.final === null)) return null;
  const means = found.map((r) => r!.final!.mean);
  const broken = chain.slice(1).flatMap((m, i) => means[i] > means[i + 1] ? [] : [`${chain[i]} ≤ ${m}`]);
  return broken.length === 0
    ? "The paper's ordering oreal > oreal-no-rm > grpo > reinforce holds on mean final pass@1."
    : `The paper's ordering oreal > oreal-no-rm > grpo > reinforce does not hold on mean final pass@1 ` +
      `(${broken.join(", ")}).`;
}

/** The markdown of `ablation.md`. `header` lines (commands, settings) come first. */
export function ablationMarkdown(summaries: readonly RunSummary[], header: readonly string[]): string {
  const rows = ablationRows(summaries);
  const k = summaries[0]?.k ?? 0;
  const lines = [
    "# Ablation: held-out greedy pass@1 and diagnostics by method",
    "",
    ...header,
    "",
    `| method | seeds | SFT pass@1 | final pass@1 | best pass@1 | gain (points) | mean@${k} | train pass rate (end) | KL | RM AUC | final per seed | responses sampled | wall s |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.method} | ${r.seeds.join(", ")} | ${pctCi(r.sft)} | ${pctCi(r.final)} | ${pctCi(r.best)} | ` +
      `${pctCi(r.gain)} | ${pctCi(r.meank)} | ${pctCi(r.trainPassEnd)} | ${numCi(r.kl, 4)} | ` +
      `${numCi(r.rmAuc, 2)} | ${r.perSeed.map(pct).join(" / ")} | ${Math.round(r.sampledResponses)} | ` +
      `${Math.round(r.wallSeconds)} |`
    ),
    "",
    "Percentages except KL and AUC: mean over seeds with its 95% Student's t interval in brackets (a single seed " +
    "gives a zero-width interval). Final pass@1 is greedy on the held-out split; mean@k is the mean accuracy of " +
    "k sampled responses; train pass rate is the sampled pass rate over the last tenth of the steps; RM AUC is " +
    "the token RM's held-out AUC pooled over its last steps.",
  ];
  const verdict = orderingVerdict(rows);
  if (verdict) lines.push("", verdict);
  return lines.join("\n") + "\n";
}

/** The bar chart of `ablation.svg`: final and best pass@1, mean@k, train pass rate and RM AUC per method. */
export function ablationSvg(summaries: readonly RunSummary[]): string {
  const rows = ablationRows(summaries);
  const bar = (s: SeedStat | null): Bar | null =>
    s ? { value: 100 * s.mean, interval: [100 * s.ci95[0], 100 * s.ci95[1]] } : null;
  const k = summaries[0]?.k ?? 0;
  const metrics: [string, (r: AblationRow) => SeedStat | null][] = [
    ["final pass@1", (r) => r.final],
    ["best pass@1", (r) => r.best],
    [`mean@${k}`, (r) => r.meank],
    ["train pass (end)", (r) => r.trainPassEnd],
    ["RM AUC (x100)", (r) => r.rmAuc],
  ];
  return renderBars({
    title: "Ablation: mean over seeds with 95% intervals",
    yLabel: "%",
    series: rows.map((r) => r.method),
    groups: metrics.map(([label, f]) => ({ label, bars: rows.map((r) => bar(f(r))) })),
    yMin: 0,
    yMax: 100,
  });
}

/** The SVG of mean held-out pass@1 against RL step, one line per method (mean over seeds at each step). */
export function ablationCurveSvg(summaries: readonly RunSummary[]): string {
  const byMethod = new Map<string, Map<number, number[]>>();
  for (const s of summaries) {
    const steps = byMethod.get(s.method) ?? new Map<number, number[]>();
    byMethod.set(s.method, steps);
    for (const e of s.evals) {
      const list = steps.get(e.step) ?? [];
      list.push(e.pass1);
      steps.set(e.step, list);
    }
  }
  const series: Series[] = [...byMethod].map(([method, steps]) => ({
    name: method,
    markers: true,
    points: [...steps].sort((a, b) => a[0] - b[0]).map((
      [step, v],
    ) => [step, (100 * v.reduce((a, b) => a + b, 0)) / v.length]),
  }));
  return renderChart({
    title: "Ablation: held-out greedy pass@1 (mean over seeds)",
    xLabel: "RL step (0 = SFT model)",
    panels: [{ yLabel: "pass@1 (%)", series }],
  });
}
