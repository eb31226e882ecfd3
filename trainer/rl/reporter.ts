/**
 * The status line of a training run: one line per step with step/total, pass rate, pairs kept, losses, KL,
 * entropy, tokens/s and the ETA. On a terminal the in-step progress (sampling, scoring, update) rewrites the
 * current line; with no terminal only whole lines are written.
 *
 * @module
 */

import type { StepMetrics } from "./metrics.ts";

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
  if (m.eval) {
    parts.push(
      `| eval pass@1 ${(100 * m.eval.pass1).toFixed(1)}% pass@${m.eval.k} ${
        (100 * m.eval.passK).toFixed(1)
      }%`,
    );
  }
  return parts.join("  ");
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
