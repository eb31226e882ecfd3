/**
 * The ablation report: `ablation.md` (a table of held-out pass@1 by method, mean and spread across seeds) and
 * `ablation.svg` (mean pass@1 against RL step, one line per method), from the summaries of the runs.
 *
 * @module
 */

import type { RunSummary } from "./metrics.ts";
import { renderChart, type Series } from "./svg.ts";

/** Mean and sample standard deviation (0 for a single value). Throws on an empty list. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) throw new Error("meanStd: no values");
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, std: 0 };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** One row of the ablation table. */
export interface AblationRow {
  method: string;
  seeds: number[];
  sft: { mean: number; std: number };
  final: { mean: number; std: number };
  best: { mean: number; std: number };
  gain: { mean: number; std: number };
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
    return {
      method,
      seeds: runs.map((r) => r.seed),
      sft: meanStd(runs.map((r) => r.sft_pass1)),
      final: meanStd(runs.map((r) => r.final_pass1)),
      best: meanStd(runs.map((r) => r.best_pass1)),
      gain: meanStd(runs.map((r) => r.final_pass1 - r.sft_pass1)),
      perSeed: runs.map((r) => r.final_pass1),
      sampledResponses: meanStd(runs.map((r) => r.sampled_responses)).mean,
      wallSeconds: meanStd(runs.map((r) => r.wall_seconds)).mean,
    };
  });
}

const pct = (x: number) => (100 * x).toFixed(1);
const pm = (v: { mean: number; std: number }) => `${pct(v.mean)} ± ${pct(v.std)}`;

/**
 * The paper's expected ordering (oreal > oreal-no-rm > grpo > reinforce) checked on mean final pass@1:
 * returns a sentence saying whether it holds, or null when a method of the chain is missing.
 */
export function orderingVerdict(rows: readonly AblationRow[]): string | null {
  const chain = ["oreal", "oreal-no-rm", "grpo", "reinforce"];
  const found = chain.map((m) => rows.find((r) => r.method === m));
  if (found.some((r) => r === undefined)) return null;
  const means = found.map((r) => r!.final.mean);
  const broken = chain.slice(1).flatMap((m, i) => means[i] > means[i + 1] ? [] : [`${chain[i]} ≤ ${m}`]);
  return broken.length === 0
    ? "The paper's ordering oreal > oreal-no-rm > grpo > reinforce holds on mean final pass@1."
    : `The paper's ordering oreal > oreal-no-rm > grpo > reinforce does not hold on mean final pass@1 ` +
      `(${broken.join(", ")}).`;
}

/** The markdown of `ablation.md`. `header` lines (commands, settings) come first. */
export function ablationMarkdown(summaries: readonly RunSummary[], header: readonly string[]): string {
  const rows = ablationRows(summaries);
  const lines = [
    "# Ablation: held-out greedy pass@1 by method",
    "",
    ...header,
    "",
    "| method | seeds | SFT pass@1 | final pass@1 | best pass@1 | gain (points) | final per seed | responses sampled | wall s |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.method} | ${r.seeds.join(", ")} | ${pm(r.sft)} | ${pm(r.final)} | ${pm(r.best)} | ` +
      `${pm(r.gain)} | ${r.perSeed.map(pct).join(" / ")} | ${Math.round(r.sampledResponses)} | ` +
      `${Math.round(r.wallSeconds)} |`
    ),
    "",
    "Values are percentages, mean ± sample standard deviation across seeds.",
  ];
  const verdict = orderingVerdict(rows);
  if (verdict) lines.push("", verdict);
  return lines.join("\n") + "\n";
}

/** The SVG of mean held-out pass@1 against RL step, one line per method (mean over seeds at each step). */
export function ablationSvg(summaries: readonly RunSummary[]): string {
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
    points: [...steps].sort((a, b) => a[0] - b[0]).map(([step, v]) => [step, 100 * meanStd(v).mean]),
  }));
  return renderChart({
    title: "Ablation: held-out greedy pass@1 (mean over seeds)",
    xLabel: "RL step (0 = SFT model)",
    panels: [{ yLabel: "pass@1 (%)", series }],
  });
}
