/**
 * Verification off the server's thread: a pool of Web Workers running `core/verify`, with a hard wall-clock
 * deadline per item. The verifier's own time budget is cooperative (checked between steps), so a step that
 * never returns (say, a regular expression backtracking on attacker text) would freeze the thread it runs on;
 * here it freezes one worker, which the pool terminates and replaces once the item's deadline passes, and the
 * item is answered `status: "timeout"`. The server's event loop only passes messages, so it keeps answering.
 *
 * Items travel to a worker in small batches (one message for several items); the worker answers each item
 * with its own message, so the pool always knows which item a worker is on. When a worker is slow on one item,
 * the items queued behind it in its batch go back to the pool for other workers, and when every worker is
 * stuck on a slow item while others wait, the pool grows (up to `maxWorkers`).
 *
 * ```ts
 * import { VerifyPool } from "./pool.ts";
 * const pool = new VerifyPool({ workers: 2 });
 * const verdict = await pool.verify("42", "so \\boxed{42}", { timeoutMs: 2000 });
 * pool.close();
 * ```
 *
 * @module
 */

import type { Verdict } from "../../core/verify/mod.ts";
import type { WorkBatch, WorkItem, WorkReply } from "./protocol.ts";

/** How a pool is set up. */
export interface VerifyPoolOptions {
  /** Workers started at once (default 2). */
  workers?: number;
  /**
   * Most workers (default twice `workers`): while every worker is stuck on a slow item (over 100 ms) and
   * items wait, the pool starts one more, up to this many, and keeps it.
   */
  maxWorkers?: number;
  /** Wall time an item may run past its own `timeoutMs` before its worker is terminated (default 500 ms). */
  graceMs?: number;
  /** Most items sent to a worker in one message (default 16). */
  maxBatch?: number;
  /** Most items waiting for a worker; more are refused with {@linkcode VerifyPoolBusyError} (default 4096). */
  maxQueued?: number;
  /** After this long on one item, the items behind it in its batch go to other workers (default 20 ms). */
  rebalanceAfterMs?: number;
  /** The worker module (default `verify_worker.ts`); it must call `serveVerifier` from `protocol.ts`. */
  workerUrl?: URL;
}

/** Options of one verification through the pool. */
export interface PoolVerifyOptions {
  /** True when generation hit its length limit. */
  truncated?: boolean;
  /** The verifier's budget (default 2000 ms); the hard deadline is this plus the pool's `graceMs`. */
  timeoutMs?: number;
  /** `performance.now()` time by which the item must have started; later it is answered `timeout` unrun. */
  startBy?: number;
}

/** Thrown (as a rejection) when the pool's waiting line is full. */
export class VerifyPoolBusyError extends Error {
  /** Creates the error. */
  constructor(maxQueued: number) {
    super(`the verifier is busy: ${maxQueued} items are already waiting`);
    this.name = "VerifyPoolBusyError";
  }
}

/** The verdict for an item stopped at, or never started before, its deadline. */
export function timeoutVerdict(reason: string): Verdict {
  return { correct: false, status: "timeout", extracted: null, reason };
}

interface Pending {
  item: WorkItem;
  startBy: number;
  resolve: (verdict: Verdict) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Items sent and not yet answered, in order; null marks an item handed back to the pool. */
  inflight: (Pending | null)[];
  /** When the worker started its current (first unanswered) item. */
  itemStarted: number;
}

/** A worker on one item for longer than this counts as stuck when deciding to start another. */
const STUCK_MS = 100;

const DEFAULT_WORKER = new URL("./verify_worker.ts", import.meta.url);

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`VerifyPool: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** A pool of verification workers with a hard per-item deadline. */
export class VerifyPool {
  readonly #graceMs: number;
  readonly #maxWorkers: number;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #rebalanceAfterMs: number;
  readonly #workerUrl: URL;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #ticker: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #restarts = 0;
  #onReady: (() => void)[] = [];
  #loadFailures = 0;

  /** Starts the workers (they load in the background; items wait for them). */
  constructor(options: VerifyPoolOptions = {}) {
    const workers = positiveInteger(options.workers ?? 2, "workers");
    this.#maxWorkers = Math.max(workers, positiveInteger(options.maxWorkers ?? 2 * workers, "maxWorkers"));
    this.#graceMs = options.graceMs ?? 500;
    if (!(this.#graceMs >= 0)) throw new RangeError("VerifyPool: graceMs must be >= 0");
    this.#maxBatch = positiveInteger(options.maxBatch ?? 16, "maxBatch");
    this.#maxQueued = positiveInteger(options.maxQueued ?? 4096, "maxQueued");
    this.#rebalanceAfterMs = options.rebalanceAfterMs ?? 20;
    this.#workerUrl = options.workerUrl ?? DEFAULT_WORKER;
    for (let i = 0; i < workers; i++) this.#slots.push(this.#spawn());
  }

  /** Workers terminated and replaced so far (after a deadline or a crash). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Resolves once every worker has loaded (items sent before then wait for one). */
  async ready(): Promise<void> {
    while (!this.#closed && this.#slots.some((s) => !s.ready)) {
      await new Promise<void>((resolve) => this.#onReady.push(resolve));
    }
  }

  /** Items waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Verifies one item in a worker; see {@linkcode PoolVerifyOptions}. */
  verify(gold: string, response: string, options: PoolVerifyOptions = {}): Promise<Verdict> {
    if (this.#closed) return Promise.reject(new Error("VerifyPool: the pool is closed"));
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(new VerifyPoolBusyError(this.#maxQueued));
    }
    const item: WorkItem = {
      gold,
      response,
      truncated: options.truncated ?? false,
      timeoutMs: options.timeoutMs ?? 2000,
    };
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, startBy: options.startBy ?? Infinity, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; items not answered yet are rejected. */
  close(): void {
    this.#closed = true;
    this.#stopTicker();
    for (const wake of this.#onReady.splice(0)) wake();
    const error = new Error("VerifyPool: the pool was closed");
    for (const slot of this.#slots) {
      slot.worker.terminate();
      for (const p of slot.inflight) p?.reject(error);
      slot.inflight = [];
    }
    for (const p of this.#queue.splice(0)) p.reject(error);
  }

  #spawn(): Slot {
    const worker = new Worker(this.#workerUrl, { type: "module" });
    const slot: Slot = { worker, ready: false, inflight: [], itemStarted: 0 };
    worker.onmessage = (event: MessageEvent<WorkReply>) => this.#onReply(slot, event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      const loaded = slot.ready;
      this.#replace(
        slot,
        (p) => p.reject(new Error(`the verification worker failed: ${event.message}`)),
        loaded ? 0 : this.#nextBackoff(),
      );
    };
    return slot;
  }

  /** Doubling delay (up to 30 s) before restarting a worker that failed while loading, so it cannot spin. */
  #nextBackoff(): number {
    this.#loadFailures++;
    return Math.min(30_000, 100 * 2 ** Math.min(this.#loadFailures, 9));
  }

  #onReply(slot: Slot, reply: WorkReply): void {
    if (reply.type === "ready") {
      slot.ready = true;
      this.#loadFailures = 0;
      for (const wake of this.#onReady.splice(0)) wake();
    } else {
      const pending = slot.inflight.shift();
      slot.itemStarted = performance.now();
      if (reply.type === "verdict") pending?.resolve(reply.verdict);
      else pending?.reject(new Error(`verification failed: ${reply.message}`));
    }
    this.#dispatch();
  }

  /**
   * Terminates a slot's worker, settles its current item with `settle`, requeues the rest and starts another
   * worker in its place, after `delayMs`.
   */
  #replace(slot: Slot, settle: (pending: Pending) => void, delayMs = 0): void {
    slot.worker.terminate();
    slot.ready = false;
    const [current, ...rest] = slot.inflight;
    slot.inflight = [];
    if (current) settle(current);
    this.#queue.unshift(...rest.filter((p): p is Pending => p !== null));
    this.#restarts++;
    const restart = () => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0 && !this.#closed) this.#slots[i] = this.#spawn();
    };
    if (delayMs > 0) Deno.unrefTimer(setTimeout(restart, delayMs));
    else restart();
    this.#dispatch();
  }

  #dispatch(): void {
    if (this.#closed) return;
    const now = performance.now();
    for (const slot of this.#slots) {
      if (!slot.ready || slot.inflight.length > 0) continue;
      const batch: Pending[] = [];
      while (batch.length < this.#maxBatch && this.#queue.length > 0) {
        const next = this.#queue.shift() as Pending;
        if (now > next.startBy) next.resolve(timeoutVerdict("the request's time limit ran out"));
        else batch.push(next);
      }
      if (batch.length === 0) break;
      slot.inflight = batch;
      slot.itemStarted = now;
      slot.worker.postMessage({ items: batch.map((p) => p.item) } satisfies WorkBatch);
    }
    // The ticker stops itself once idle (see #tick), rather than here: stopping and restarting a timer for
    // every item would cost more than the item.
    if (this.#queue.length > 0 || this.#slots.some((s) => s.inflight.length > 0)) this.#startTicker();
  }

  /** Runs while items are in flight or waiting: enforces deadlines and rebalances slow batches. */
  #tick(): void {
    const now = performance.now();
    for (const slot of [...this.#slots]) {
      const current = slot.inflight[0];
      if (!current) continue;
      const ran = now - slot.itemStarted;
      if (ran > current.item.timeoutMs + this.#graceMs) {
        this.#replace(
          slot,
          (p) => p.resolve(timeoutVerdict(`verification was stopped after ${Math.round(ran)} ms`)),
        );
      } else if (ran > this.#rebalanceAfterMs && slot.inflight.length > 1) {
        // Hand the items behind the slow one to other workers; their answers from this worker are dropped.
        const behind = slot.inflight.slice(1).filter((p): p is Pending => p !== null);
        slot.inflight = slot.inflight.map((p, i) => i === 0 ? p : null);
        this.#queue.unshift(...behind);
      }
    }
    const allStuck = this.#slots.every((s) =>
      s.ready && s.inflight.length > 0 && now - s.itemStarted > STUCK_MS
    );
    if (allStuck && this.#queue.length > 0 && this.#slots.length < this.#maxWorkers) {
      this.#slots.push(this.#spawn());
    }
    const expired = this.#queue.filter((p) => now > p.startBy);
    if (expired.length > 0) {
      for (const p of expired) {
        this.#queue.splice(this.#queue.indexOf(p), 1);
        p.resolve(timeoutVerdict("the request's time limit ran out"));
      }
    }
    this.#dispatch();
    if (this.#queue.length === 0 && this.#slots.every((s) => s.inflight.length === 0)) this.#stopTicker();
  }

  #startTicker(): void {
    if (this.#ticker !== undefined) return;
    const every = Math.max(5, Math.min(50, Math.floor(this.#rebalanceAfterMs / 2)));
    // Not unref'd: it runs only while items wait or run, and it is what answers them once their time is up
    // (when every worker failed to load, nothing else keeps the program alive until then).
    this.#ticker = setInterval(() => this.#tick(), every);
  }

  #stopTicker(): void {
    if (this.#ticker === undefined) return;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }
}
