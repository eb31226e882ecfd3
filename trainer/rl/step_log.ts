/**
 * The per-step outputs of a run's RL loop in its folder: one line per step appended to `metrics.jsonl`, and
 * `curve.svg`, drawn from the lines kept in memory (read from the file once, on resume) instead of from the file
 * read back at every step, which grew quadratic in the steps. Drawing a long run's curve takes milliseconds, so
 * it is redrawn after each evaluation, at the last step, and otherwise when `redrawMs` have passed since the
 * last drawing (the first step of a process draws it too).
 *
 * @module
 */

import { runCurveSvg } from "./curve.ts";
import { appendMetrics, type EvalPoint, type StepMetrics, writeFileAtomic } from "./metrics.ts";

/** Options of {@linkcode StepLog}. */
export interface StepLogOptions {
  /** The curve's title. */
  title: string;
  /** The k of the pass@k and mean@k series. */
  k: number;
  /** The lines already in `metrics.jsonl` (the committed steps of a resumed run; none for a fresh one). */
  lines: readonly StepMetrics[];
  /** Redraw the curve at a step without evaluation once this many milliseconds passed (default 2000). */
  redrawMs?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** `metrics.jsonl` and `curve.svg` of a run folder, written step by step. */
export class StepLog {
  readonly #out: string;
  readonly #title: string;
  readonly #k: number;
  readonly #lines: StepMetrics[];
  readonly #redrawMs: number;
  readonly #now: () => number;
  #drawnAt = -Infinity;

  /** The log of the run in folder `out`. */
  constructor(out: string, opts: StepLogOptions) {
    this.#out = out;
    this.#title = opts.title;
    this.#k = opts.k;
    this.#lines = [...opts.lines];
    this.#redrawMs = opts.redrawMs ?? 2000;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Every step's line so far. */
  get lines(): readonly StepMetrics[] {
    return this.#lines;
  }

  /**
   * Appends the line of a committed step and redraws the curve when it is due. `evals` are the run's evaluations
   * so far; `last`: this is the run's last step (the curve is drawn complete).
   */
  async add(line: StepMetrics, evals: readonly EvalPoint[], last: boolean): Promise<void> {
    this.#lines.push(line);
    appendMetrics(`${this.#out}/metrics.jsonl`, line);
    if (!last && line.eval === undefined && this.#now() - this.#drawnAt < this.#redrawMs) return;
    await writeFileAtomic(`${this.#out}/curve.svg`, runCurveSvg(this.#title, evals, this.#lines, this.#k));
    this.#drawnAt = this.#now();
  }
}
