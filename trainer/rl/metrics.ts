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
  tokensPerSecond: { sampling: number; scoring: number; update: number };
  stepSeconds: number;
  elapsedSeconds: number;
  /** Held-out evaluation done after this step, if any. */
  eval?: EvalMetrics;
}

/** A held-out evaluation. */
export interface EvalMetrics {
  pass1: number;
  passK: number;
  k: number;
  problems: number;
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
  /** All evaluations: step 0 is the SFT model. */
  evals: { step: number; pass1: number; passk: number }[];
  wall_seconds: number;
  tokens_per_second: number;
  tokens_per_second_by_phase: Record<Phase, number>;
  seconds_by_phase: Record<Phase, number>;
  sampled_responses: number;
  test_problems: number;
  train_problems: number;
  resumed: boolean;
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

/** Appends one step's line to `metrics.jsonl`. */
export async function appendMetrics(path: string, line: StepMetrics): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(line) + "\n", { append: true });
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
