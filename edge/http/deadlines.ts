/**
 * Many deadlines served by one timer. A server under load would otherwise arm and clear a timer for every
 * request (and every read and write): here a deadline is an entry in a set, and one interval timer, running
 * only while the set is not empty, fires the entries whose time has come. A deadline fires up to one period
 * late, which is fine for limits of hundreds of milliseconds and more.
 *
 * ```ts
 * import { DeadlineSweep } from "./deadlines.ts";
 * const sweep = new DeadlineSweep(50);
 * const entry = sweep.add(1000, () => console.log("too late"));
 * sweep.remove(entry); // done in time
 * ```
 *
 * @module
 */

/** One deadline: its time (`performance.now()` scale) and what to do when it passes. */
export interface Deadline {
  /** When it fires. */
  at: number;
  /** Called once when it fires (not after {@linkcode DeadlineSweep.remove}). */
  readonly fire: () => void;
}

/** A set of deadlines checked every `periodMs` by one timer, which does not keep the process alive. */
export class DeadlineSweep {
  readonly #periodMs: number;
  readonly #entries = new Set<Deadline>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** A sweep that checks its deadlines every `periodMs` milliseconds. */
  constructor(periodMs: number) {
    if (!(periodMs > 0)) throw new RangeError(`DeadlineSweep: periodMs must be > 0, got ${periodMs}`);
    this.#periodMs = periodMs;
  }

  /** Deadlines pending. */
  get size(): number {
    return this.#entries.size;
  }

  /** Calls `fire` once, `ms` from now (up to one period later), unless removed first. */
  add(ms: number, fire: () => void): Deadline {
    const entry: Deadline = { at: performance.now() + ms, fire };
    this.#entries.add(entry);
    this.#start();
    return entry;
  }

  /** Forgets `entry` (it will not fire); removing one that fired or was removed already does nothing. */
  remove(entry: Deadline | undefined): void {
    if (entry) this.#entries.delete(entry);
  }

  #start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => this.#sweep(), this.#periodMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#entries) {
      if (entry.at > now) continue;
      this.#entries.delete(entry);
      try {
        entry.fire();
      } catch (err) {
        console.error("edge: a deadline handler failed:", err);
      }
    }
    if (this.#entries.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
