/**
 * What one RL step measured (one line of `metrics.jsonl`), the run summary (`summary.json`), and their
 * writers. `metrics.jsonl` is rewritten from the kept lines on resume, so a step that was cut off before its
 * checkpoint does not appear twice.
 *
 * @module
 */

/** Seconds and tokens spent in one phase; tokens/s is their ratio. */
export interface PhaseTime {
  seconds: number;
  tokens: number;
}

/** Phases whose throughput the summary reports. */
export type Phase = "sft" | "sampling" | "scoring" | "update" | "eval";

/** The measurements of one RL step. */
export interface StepMetrics {
  step: number;
  /** Fraction of sampled responses judged correct. */
  passRate: number;
  /** Mean reward (+1 / -1) over the sampled responses. */
  meanReward: number;
  /** Prompts with mixed verdicts (0 < p < 1) out of the step's prompts. */
  pairsKept: number;
  prompts: number;
  /** Sequences in the policy update batch. */
  updateSequences: number;
  /** Fraction of responses cut off by the length limit. */
  truncatedRate: number;
  meanResponseTokens: number;
  loss: number;
  lossPositive: number;
  lossNegative: number;
  lossKl: number;
  rmLoss: number | null;
  /** Mean k3 KL estimate to the reference over update tokens. */
  kl: number;
  /** Mean negative log-probability of the sampled tokens (an entropy estimate). */
  entropy: number;
  gradNorm: number;
  lr: number;
  /** Whether the policy was updated (false during RM warm-up or with no usable sample). */
  policyUpdated: boolean;
  /**
   * Token RM diagnostics ("oreal"; null otherwise or when a class is missing), all measured on the step's fresh
   * update batch before the RM trains on it: AUC of the sequence score (mean token score) for correct against
   * wrong responses, this step's and pooled over the monitor's window; whether the policy used the RM's omega
   * (false while the AUC gate holds omega at 1); mean omega+ over correct tokens and omega- over wrong tokens;
   * mean omega- before and from the first wrong token of wrong responses whose problem has a gold chain.
   */
  rmAuc: number | null;
  rmAucPooled: number | null;
  omegaTrust: number | null;
  omegaPositive: number | null;
  omegaNegative: number | null;
  omegaNegBefore: number | null;
  omegaNegAfter: number | null;
  tokensPerSecond: { sampling: number; scoring: number; update: number };
  stepSeconds: number;
  elapsedSeconds: number;
  /** Optimizer steps between the policy that sampled the step and the one it updated (rollout workers only). */
  policyLag?: number;
  /** Held-out evaluation done after this step, if any. */
  eval?: EvalMetrics;
}

/** A held-out evaluation. */
export interface EvalMetrics {
  /** Greedy pass@1 and its 95% Wilson interval. */
  pass1: number;
  pass1Ci95: [number, number];
  /** pass@k from k samples per problem (NaN when skipped). */
  passK: number;
  /** Mean accuracy over the k samples (mean@k), and its 95% interval over problems (null when skipped). */
  meanK: number;
  meanKCi95: [number, number] | null;
  k: number;
  problems: number;
  /** P(every step right | correct) of the greedy responses, on problems with gold chains (else null). */
  faithfulness: number | null;
}

/** One evaluation in the run state and summary (pass@1, pass@k and mean@k; NaN/null where not measured). */
export interface EvalPoint {
  step: number;
  pass1: number;
  passk: number;
  meank: number | null;
  /** 95% intervals of pass@1 and mean@k (null when not sampled). */
  pass1Ci95: [number, number];
  meankCi95: [number, number] | null;
  /** P(every step right | correct) of the greedy responses (null without gold chains). */
  faithfulness: number | null;
}

/** The fields of `summary.json`. */
export interface RunSummary {
  name: string;
  method: string;
  preset: string;
  seed: number;
  backend: string;
  adapter: string | null;
  steps: number;
  sft_steps: number;
  sft_pass1: number;
  final_pass1: number;
  final_passk: number | null;
  k: number;
  best_pass1: number;
  best_step: number;
  /** 95% Wilson intervals of the SFT and final greedy pass@1, and the paired 95% interval of their difference. */
  sft_pass1_ci95: [number, number];
  final_pass1_ci95: [number, number];
  gain_ci95: [number, number];
  /** Mean accuracy over k samples (mean@k) of the SFT and final models, and the final one's 95% interval. */
  sft_meank: number | null;
  final_meank: number | null;
  final_meank_ci95: [number, number] | null;
  /** P(every step right | correct) of the SFT model's greedy responses (null without gold chains). */
  sft_faithfulness: number | null;
  /** Sampled training pass rate over the first and the last tenth of the RL steps. */
  train_pass_rate_start: number | null;
  train_pass_rate_end: number | null;
  /** Mean KL to the reference over the last tenth of the steps. */
  final_kl: number | null;
  /** Token RM AUC pooled over the last steps (null for methods without an RM). */
  final_rm_auc: number | null;
  /** Mean omega- before and from the first wrong token over the last tenth of the steps (RM methods). */
  final_omega_neg_before: number | null;
  final_omega_neg_after: number | null;
  /** All evaluations: step 0 is the SFT model. */
  evals: EvalPoint[];
  wall_seconds: number;
  tokens_per_second: number;
  tokens_per_second_by_phase: Record<Phase, number>;
  seconds_by_phase: Record<Phase, number>;
  sampled_responses: number;
  test_problems: number;
  train_problems: number;
  resumed: boolean;
}

/** The summary fields aggregated from the per-step lines. */
export type StepAggregates = Pick<
  RunSummary,
  | "train_pass_rate_start"
  | "train_pass_rate_end"
  | "final_kl"
  | "final_rm_auc"
  | "final_omega_neg_before"
  | "final_omega_neg_after"
>;

/**
 * Late-run and early-run figures of a run from its step lines: the sampled training pass rate over the first
 * and the last tenth of the steps (at least one step each), and over the last tenth the mean KL, the token RM's
 * pooled held-out AUC at the last step that has one, and the mean omega- before and from the first wrong token.
 */
export function stepAggregates(lines: readonly StepMetrics[]): StepAggregates {
  const tenth = Math.max(1, Math.round(lines.length / 10));
  const meanOf = (xs: readonly StepMetrics[], f: (m: StepMetrics) => number | null | undefined) => {
    const v = xs.map(f).filter((x): x is number => x !== null && x !== undefined && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const first = lines.slice(0, tenth), last = lines.slice(-tenth);
  const withAuc = lines.filter((m) => m.rmAucPooled !== null && m.rmAucPooled !== undefined);
  return {
    train_pass_rate_start: meanOf(first, (m) => m.passRate),
    train_pass_rate_end: meanOf(last, (m) => m.passRate),
    final_kl: meanOf(last, (m) => m.kl),
    final_rm_auc: withAuc.length ? withAuc[withAuc.length - 1].rmAucPooled : null,
    final_omega_neg_before: meanOf(last, (m) => m.omegaNegBefore),
    final_omega_neg_after: meanOf(last, (m) => m.omegaNegAfter),
  };
}

/** Ratio of tokens to seconds, 0 when no time was spent. */
export function rate(p: PhaseTime): number {
  return p.seconds > 0 ? p.tokens / p.seconds : 0;
}

/** Accumulates time and tokens per phase. */
export class PhaseClock {
  readonly phases: Record<Phase, PhaseTime> = {
    sft: { seconds: 0, tokens: 0 },
    sampling: { seconds: 0, tokens: 0 },
    scoring: { seconds: 0, tokens: 0 },
    update: { seconds: 0, tokens: 0 },
    eval: { seconds: 0, tokens: 0 },
  };

  /** Runs `fn`, adding its duration and the token count it returns (or `tokens`) to `phase`. */
  async time<T>(phase: Phase, fn: () => Promise<T> | T, tokens: (value: T) => number): Promise<T> {
    const t0 = performance.now();
    const value = await fn();
    this.phases[phase].seconds += (performance.now() - t0) / 1000;
    this.phases[phase].tokens += tokens(value);
    return value;
  }

  /** Tokens/s per phase. */
  rates(): Record<Phase, number> {
    const out = {} as Record<Phase, number>;
    for (const [k, v] of Object.entries(this.phases)) out[k as Phase] = rate(v);
    return out;
  }

  /** Seconds per phase. */
  seconds(): Record<Phase, number> {
    const out = {} as Record<Phase, number>;
    for (const [k, v] of Object.entries(this.phases)) out[k as Phase] = v.seconds;
    return out;
  }

  /** Plain-object copy, for resume. */
  toJSON(): Record<Phase, PhaseTime> {
    return structuredClone(this.phases);
  }

  /** Restores a copy made by {@linkcode PhaseClock.toJSON}. */
  restore(saved: Partial<Record<Phase, PhaseTime>>): void {
    for (const [k, v] of Object.entries(saved)) {
      if (k in this.phases && v) this.phases[k as Phase] = { seconds: v.seconds, tokens: v.tokens };
    }
  }
}

/** Reads `metrics.jsonl` (missing file: no lines); throws on a malformed line, naming it. */
export async function readMetrics(path: string): Promise<StepMetrics[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: StepMetrics[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    try {
      out.push(JSON.parse(lines[i]) as StepMetrics);
    } catch {
      // A line cut by a kill mid-write is the last one; anything else is corruption.
      if (i >= lines.length - 2) break;
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
  }
  return out;
}

/** Rewrites `metrics.jsonl` with the given lines (used on resume to drop steps after the checkpoint). */
export async function writeMetrics(path: string, lines: readonly StepMetrics[]): Promise<void> {
  await Deno.writeTextFile(path, lines.map((l) => JSON.stringify(l) + "\n").join(""));
}

/** Appends one step's line to `metrics.jsonl` (synchronously: it is one short write at every step). */
export function appendMetrics(path: string, line: StepMetrics): void {
  Deno.writeTextFileSync(path, JSON.stringify(line) + "\n", { append: true });
}

/** Writes `summary.json` atomically (temporary file, then rename). */
export async function writeSummary(path: string, summary: RunSummary): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(summary, null, 2) + "\n");
}

/** Writes a text file through a temporary file and a rename, so a kill never leaves half a file. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}
