/**
 * A replay buffer for the token reward model: the responses it trained on in the last few steps, trained on
 * again with each new batch so that a small per-step batch still gives the RM enough data.
 *
 * @module
 */

import type { Sequence } from "./batch.ts";

/** One labelled response: prompt and response tokens, and the verdict. */
export interface LabelledSequence {
  seq: Sequence;
  correct: boolean;
}

/** The serialisable state of an {@linkcode RmReplay}. */
export interface RmReplayState {
  steps: number;
  batches: { prompt: number[]; response: number[]; correct: boolean }[][];
}

/** The RM batches of the last `steps` steps (0 keeps none: the released trainer's behaviour). */
export class RmReplay {
  readonly #steps: number;
  readonly #batches: LabelledSequence[][];

  /** A buffer of the last `steps` batches, optionally restored from {@linkcode toJSON}. */
  constructor(steps: number, state?: RmReplayState) {
    if (!Number.isInteger(steps) || steps < 0) {
      throw new RangeError(`RmReplay: steps must be a non-negative integer, got ${steps}`);
    }
    this.#steps = steps;
    const saved = steps === 0 ? [] : (state?.batches ?? []).slice(-steps);
    this.#batches = saved.map((b) =>
      b.map((x) => ({
        seq: { prompt: Uint32Array.from(x.prompt), response: Uint32Array.from(x.response) },
        correct: x.correct,
      }))
    );
  }

  /** Every buffered response, oldest batch first. */
  items(): LabelledSequence[] {
    return this.#batches.flat();
  }

  /** Adds one step's batch, dropping the oldest beyond `steps`. */
  add(batch: readonly LabelledSequence[]): void {
    if (this.#steps === 0) return;
    this.#batches.push([...batch]);
    if (this.#batches.length > this.#steps) this.#batches.shift();
  }

  /** State to save with a checkpoint. */
  toJSON(): RmReplayState {
    return {
      steps: this.#steps,
      batches: this.#batches.map((b) =>
        b.map((x) => ({
          prompt: Array.from(x.seq.prompt),
          response: Array.from(x.seq.response),
          correct: x.correct,
        }))
      ),
    };
  }
}
