/**
 * The status line of a training run: one line per step with step/total, pass rate, pairs kept, losses, KL,
 * entropy, tokens/s and the ETA. On a terminal the in-step progress (sampling, scoring, update) rewrites the
 * current line; with no terminal only whole lines are written.
 *
 * @module
 */

import type { EvalMetrics, RunSummary, StepMetrics } from "./metrics.ts";

/** Seconds as `1h02m`, `3m07s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

function num(x: number | null, digits = 3): string {
  if (x === null || !Number.isFinite(x)) return "-";
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1);
  return x.toFixed(digits);
}

/** The status line of one finished step. `etaSeconds` is the estimated time left in the run. */
export function formatStepLine(m: StepMetrics, totalSteps: number, etaSeconds: number): string {
  const width = String(totalSteps).length;
  const tps = m.tokensPerSecond;
  const parts = [
    `step ${String(m.step).padStart(width)}/${totalSteps}`,
    `pass ${(100 * m.passRate).toFixed(1).padStart(5)}%`,
    `pairs ${m.pairsKept}/${m.prompts}`,
    `loss ${num(m.loss)} (pos ${num(m.lossPositive)} neg ${num(m.lossNegative)} kl ${num(m.lossKl)})`,
    `rm ${num(m.rmLoss)}`,
    `KL ${num(m.kl, 4)}`,
    `H ${num(m.entropy, 2)}`,
    `tok/s ${Math.round(tps.sampling)}/${Math.round(tps.scoring)}/${Math.round(tps.update)}`,
    `ETA ${formatDuration(etaSeconds)}`,
  ];
  if (!m.policyUpdated) {
    parts.push(m.updateSequences === 0 ? "(no update samples)" : "(policy frozen: RM warm-up)");
  }
  if (m.rmAucPooled !== null && m.rmAucPooled !== undefined) {
    parts.push(
      `auc ${m.rmAucPooled.toFixed(2)} trust ${num(m.omegaTrust, 2)} w- ${num(m.omegaNegBefore, 2)}/${
        num(m.omegaNegAfter, 2)
      }`,
    );
  }
  if (m.eval) parts.push(`| eval ${formatEval(m.eval)}`);
  return parts.join("  ");
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ci = (c: readonly [number, number]) => `[${(100 * c[0]).toFixed(1)}, ${(100 * c[1]).toFixed(1)}]`;

/** An evaluation as text: pass@1 with its 95% interval, mean@k with its interval, pass@k, problem count. */
export function formatEval(e: EvalMetrics): string {
  const parts = [`pass@1 ${pct(e.pass1)} ${ci(e.pass1Ci95)}`];
  if (Number.isFinite(e.meanK)) {
    parts.push(`mean@${e.k} ${pct(e.meanK)}${e.meanKCi95 ? ` ${ci(e.meanKCi95)}` : ""}`);
    parts.push(`pass@${e.k} ${pct(e.passK)}`);
  }
  if (e.faithfulness !== null) parts.push(`chains right|correct ${e.faithfulness.toFixed(2)}`);
  return `${parts.join(", ")} (${e.problems} problems)`;
}

/** The last line of a run: SFT and final pass@1 with intervals, the gain's interval, best, and the folder. */
export function finalLine(s: RunSummary, out: string): string {
  return `done in ${s.wall_seconds.toFixed(0)} s: pass@1 ${pct(s.sft_pass1)} ${
    ci(s.sft_pass1_ci95)
  } (SFT) -> ` +
    `${pct(s.final_pass1)} ${ci(s.final_pass1_ci95)} (final), gain ${ci(s.gain_ci95)} points, best ` +
    `${pct(s.best_pass1)} at step ${s.best_step}` +
    (s.final_rm_auc !== null ? `, RM AUC ${s.final_rm_auc.toFixed(2)}` : "") + `; outputs in ${out}`;
}

/** Where the reporter writes; `isTerminal` selects in-place progress. */
export interface ReporterSink {
  write(text: string): void;
  isTerminal: boolean;
}

/** The sink for the process's standard output. */
export function stdoutSink(): ReporterSink {
  const enc = new TextEncoder();
  return {
    write: (text) => {
      Deno.stdout.writeSync(enc.encode(text));
    },
    isTerminal: Deno.stdout.isTerminal(),
  };
}

/** Writes status lines; `quiet` writes nothing. */
export class Reporter {
  #sink: ReporterSink;
  #progressShown = false;
  #quiet: boolean;

  constructor(sink: ReporterSink, quiet = false) {
    this.#sink = sink;
    this.#quiet = quiet;
  }

  /** A message on its own line (phase changes, evaluations, files written). */
  info(message: string): void {
    if (this.#quiet) return;
    this.#clearProgress();
    this.#sink.write(message + "\n");
  }

  /** In-step progress: rewrites the current line on a terminal, ignored otherwise. */
  progress(message: string): void {
    if (this.#quiet || !this.#sink.isTerminal) return;
    this.#sink.write(`\r\x1b[2K${message}`);
    this.#progressShown = true;
  }

  /** The line of a finished step. */
  step(m: StepMetrics, totalSteps: number, etaSeconds: number): void {
    this.info(formatStepLine(m, totalSteps, etaSeconds));
  }

  #clearProgress(): void {
    if (this.#progressShown) {
      this.#sink.write("\r\x1b[2K");
      this.#progressShown = false;
    }
  }
}
