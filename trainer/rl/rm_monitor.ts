/**
 * What the trainer remembers about the token reward model across steps: the sequence scores of the last few
 * steps' fresh batches (each scored before the RM trained on it, so they measure held-out discrimination),
 * pooled into one AUC that decides whether the RM's token weights are trusted yet.
 *
 * @module
 */

import { rocAuc } from "../../core/stats/mod.ts";

/** One step's RM sequence scores (mean token score) of correct and of wrong responses. */
export interface ScoredStep {
  positive: number[];
  negative: number[];
}

/** The serialisable state of a {@linkcode RmMonitor}. */
export interface RmMonitorState {
  window: number;
  steps: ScoredStep[];
}

/** A sliding window of the RM's held-out scores, with their pooled AUC. */
export class RmMonitor {
  readonly #window: number;
  readonly #steps: ScoredStep[];

  /** A monitor over the last `window` steps (at least 1), optionally restored from {@linkcode toJSON}. */
  constructor(window: number, state?: RmMonitorState) {
    if (!Number.isInteger(window) || window < 1) {
      throw new RangeError(`RmMonitor: window must be a positive integer, got ${window}`);
    }
    this.#window = window;
    this.#steps = state ? state.steps.slice(-window).map((s) => ({ ...s })) : [];
  }

  /** Adds one step's scores, dropping the oldest step beyond the window. */
  record(step: ScoredStep): void {
    this.#steps.push({ positive: [...step.positive], negative: [...step.negative] });
    if (this.#steps.length > this.#window) this.#steps.shift();
  }

  /** AUC of the scores pooled over the window (null until both classes have been seen). */
  pooledAuc(): number | null {
    return rocAuc(this.#steps.flatMap((s) => s.positive), this.#steps.flatMap((s) => s.negative));
  }

  /** State to save with a checkpoint. */
  toJSON(): RmMonitorState {
    return { window: this.#window, steps: this.#steps.map((s) => ({ ...s })) };
  }
}
