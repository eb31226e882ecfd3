/**
 * A first-come, first-served queue of slots: at most `concurrency` holders at once, at most `maxWaiting`
 * waiters (more is a {@linkcode QueueFullError}). A waiter whose signal aborts leaves the queue; a holder frees
 * its slot by calling the release function it got, once (later calls do nothing).
 *
 * @module
 */

/** Thrown by {@linkcode SlotQueue.acquire} when the waiting line is full. */
export class QueueFullError extends Error {
  /** Creates the error. */
  constructor(maxWaiting: number) {
    super(`the server is busy: ${maxWaiting} requests are already waiting`);
    this.name = "QueueFullError";
  }
}

interface Waiter {
  grant: (release: () => void) => void;
}

/** A concurrency-limited FIFO queue. */
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
   * Resolves with a release function once a slot is free. Rejects with the signal's reason if it aborts
   * first, and with {@linkcode QueueFullError} when the waiting line is full.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#concurrency) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.#maxWaiting) return Promise.reject(new QueueFullError(this.#maxWaiting));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
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
