/**
 * A fair queue of slots: at most `concurrency` holders at once, at most `maxWaiting` new waiters (more is a
 * {@linkcode QueueFullError}). A waiter whose signal aborts leaves the queue; a holder frees its slot by
 * calling the release function it got, once (later calls do nothing).
 *
 * Waiters are served by earliest virtual deadline: arrival time plus `cost` × {@linkcode MS_PER_COST}. With
 * no costs this is first come, first served; with costs (tokens to generate) a small request overtakes a
 * large one that arrived shortly before it, and a large one is never starved, since its deadline passes
 * while it waits. A request that takes the slot once per choice and gives it back in between therefore
 * lets small requests through while it runs; its later acquisitions (`resume`) never count against
 * `maxWaiting`.
 *
 * @module
 */

/** How much one unit of cost (one token to generate) delays a waiter's turn, in milliseconds. */
export const MS_PER_COST = 1;

/** How a waiter queues. */
export interface AcquireOptions {
  /** Aborts the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The work it will do with the slot, e.g. tokens to generate (default 0). */
  cost?: number;
  /** A request already under way coming back for its next turn: never refused as over `maxWaiting`. */
  resume?: boolean;
}

/** Thrown by {@linkcode SlotQueue.acquire} when the waiting line is full. */
export class QueueFullError extends Error {
  /** Creates the error. */
  constructor(maxWaiting: number) {
    super(`the server is busy: ${maxWaiting} requests are already waiting`);
    this.name = "QueueFullError";
  }
}

interface Waiter {
  key: number;
  resume: boolean;
  grant: (release: () => void) => void;
}

/** A concurrency-limited fair queue. */
export class SlotQueue {
  readonly #concurrency: number;
  readonly #maxWaiting: number;
  readonly #waiting: Waiter[] = [];
  #active = 0;

  /** Creates a queue with `concurrency` slots and room for `maxWaiting` waiters. */
  constructor(concurrency: number, maxWaiting: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`SlotQueue: concurrency must be a positive integer, got ${concurrency}`);
    }
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) {
      throw new RangeError(`SlotQueue: maxWaiting must be an integer >= 0, got ${maxWaiting}`);
    }
    this.#concurrency = concurrency;
    this.#maxWaiting = maxWaiting;
  }

  /** Slots in use. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves with a release function once a slot is free and this waiter's turn has come. Rejects with the
   * signal's reason if it aborts first, and with {@linkcode QueueFullError} when the waiting line is full.
   */
  acquire(options: AcquireOptions = {}): Promise<() => void> {
    const { signal, cost = 0, resume = false } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#concurrency) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    const newWaiters = this.#waiting.filter((w) => !w.resume).length;
    if (!resume && newWaiters >= this.#maxWaiting) {
      return Promise.reject(new QueueFullError(this.#maxWaiting));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        key: performance.now() + cost * MS_PER_COST,
        resume,
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // Keep the line sorted by key; equal keys keep their arrival order.
      let at = this.#waiting.length;
      while (at > 0 && this.#waiting[at - 1].key > waiter.key) at--;
      this.#waiting.splice(at, 0, waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next.grant(this.#releaser());
      else this.#active--;
    };
  }
}
