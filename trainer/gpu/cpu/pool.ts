/**
 * A pool of worker threads over one shared WebAssembly memory, for the CPU backend. A job is a kernel id and a
 * number of tiles; the calling thread publishes it in a control block at the start of the memory, takes part
 * itself, and every thread claims tiles with an atomic counter until none is left, so a late or sleeping worker
 * never holds a job up. The call returns when every tile is done (the backend's ops are synchronous).
 *
 * Workers are spawned on the first parallel job. A worker idle for {@linkcode IDLE_MS} exits by itself (a Deno
 * worker keeps the process alive, so a backend nobody closes must not hang its program) and is spawned again on
 * the next job. `destroy` stops and terminates them all.
 *
 * Publishing is a seqlock: the caller makes `SEQ` odd, waits until no worker is inside a job (`BUSY`), writes the
 * job, then makes `SEQ` even. A worker counts itself in `BUSY` and re-reads `SEQ` before reading the job, so it
 * never reads a job being written.
 *
 * @module
 */

/**
 * Int32 slots of the control block (at byte 0 of the memory); STATE + t is thread t's, QUIET (after the last
 * thread's) is 1 while the pool is contended: workers then sleep between jobs instead of spinning.
 */
const SEQ = 0, BUSY = 1, NEXT = 2, DONE = 3, TOTAL = 4, STOP = 5, KIND = 6, ERR = 7, STATE = 8, QUIET = 80;
/** First Int32 slot of a job's arguments. */
export const ARGS = 96;
/** Bytes the control block occupies. */
export const CONTROL_BYTES = 1024;
/** Most threads a pool runs (each has a state slot between STATE and ARGS). */
export const MAX_THREADS = 64;
/** Milliseconds a worker waits for a job before it exits. */
export const IDLE_MS = 1000;
/**
 * Milliseconds a thread spins (polling, not sleeping) for the next job or for the last tiles of its job before
 * it sleeps: longer than the gaps between the ops of one decoding step, short enough to cost little when idle.
 */
export const SPIN_MS = 0.2;
/**
 * A job whose caller waits on the workers this many milliseconds longer than its own tiles took (and several times
 * one of its tiles) had a worker descheduled mid-job: the machine's cores are oversubscribed. The pool then
 * reports itself {@linkcode ThreadPool.contended} for {@linkcode CONTENDED_MS}, and callers keep small jobs on
 * their own thread, where a late worker cannot hold them up (so does {@linkcode ABSENT_JOBS}).
 */
export const LATE_MS = 0.5;
/** How long the pool reports itself contended after a late job. */
export const CONTENDED_MS = 500;
/**
 * Jobs in a row whose tiles the caller ran alone (no worker came in time) that also mark the pool contended:
 * a spinning worker joins a job within a microsecond, one that slept since the last job may miss one job.
 */
export const ABSENT_JOBS = 2;

/** How a parallel job went, as {@linkcode judgeJob} reads it. */
export interface JobTiming {
  /** Milliseconds the caller waited on workers: to leave the last job, and to finish this one's tiles. */
  waitedMs: number;
  /** Milliseconds the caller spent on its own tiles. */
  ownMs: number;
  /** Tiles the caller ran itself, of `tiles`. */
  mine: number;
  tiles: number;
  /** Whether the pool was contended when the job started: its workers then sleep between jobs by design. */
  quiet: boolean;
}

/**
 * Whether a job shows the cores oversubscribed, and the new count of jobs in a row that no worker joined. A worker
 * that was told to sleep between jobs (`quiet`) is expected to miss one, so such a job does not count as absent:
 * had it counted, a contended pool's large jobs would keep it contended for good, and every job under
 * `PARALLEL_CONTENDED_FLOPS` would run on one thread for the rest of the process.
 */
export function judgeJob(job: JobTiming, absent: number): { contended: boolean; absent: number } {
  const alone = job.mine === job.tiles && !job.quiet ? absent + 1 : 0;
  const late = job.waitedMs > LATE_MS && job.waitedMs > (4 * job.ownMs) / Math.max(job.mine, 1);
  if (alone >= ABSENT_JOBS || late) return { contended: true, absent: 0 };
  return { contended: false, absent: alone };
}

/** The kernel exports a task uses (whatever the module exports). */
// deno-lint-ignore no-explicit-any
export type TaskExports = any;

/**
 * A task: runs tile `tile` of the job whose arguments start at Int32 slot `args` of the memory; `scratch` is the
 * byte offset of this thread's private scratch. It must be self-contained (it is sent to workers as source).
 */
export type Task = (
  ex: TaskExports,
  i32: Int32Array,
  f32: Float32Array,
  args: number,
  tile: number,
  scratch: number,
) => void;

/** A function tasks call, declared with `function name(...)` (sent to workers as source beside the tasks). */
// deno-lint-ignore no-explicit-any
export type Helper = (...args: any[]) => unknown;

function workerSource(tasks: readonly Task[], helpers: readonly Helper[]): string {
  return `
const [SEQ, BUSY, NEXT, DONE, TOTAL, STOP, KIND, ERR, STATE, QUIET, ARGS] = ${
    JSON.stringify([SEQ, BUSY, NEXT, DONE, TOTAL, STOP, KIND, ERR, STATE, QUIET, ARGS])
  };
${helpers.map((h) => h.toString()).join("\n")}
const TASKS = [${tasks.map((t) => t.toString()).join(",\n")}];
self.onmessage = (e) => {
  const { memory, bytes, index, scratch, idleMs, spinMs } = e.data;
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } }).exports;
  const i32 = new Int32Array(memory.buffer, 0, ARGS + 64), f32 = new Float32Array(memory.buffer, 0, ARGS + 64);
  let seen = -1;
  for (;;) {
    if (Atomics.load(i32, STOP) !== 0) break;
    let s = Atomics.load(i32, SEQ);
    if ((s & 1) === 1 || s === seen) {
      // Spin a little first: the next job of a decoding step usually follows within microseconds, and a
      // sleeping thread takes tens of them to wake.
      const until = Atomics.load(i32, QUIET) === 0 ? performance.now() + spinMs : 0;
      while (((s & 1) === 1 || s === seen) && performance.now() < until) s = Atomics.load(i32, SEQ);
      if ((s & 1) === 0 && s !== seen) continue;
      if (Atomics.wait(i32, SEQ, s, idleMs) === "timed-out" && Atomics.load(i32, SEQ) === s &&
          Atomics.compareExchange(i32, STATE + index, 1, 0) === 1) {
        self.close();
        return;
      }
      continue;
    }
    Atomics.add(i32, BUSY, 1);
    if (Atomics.load(i32, SEQ) === s) {
      seen = s;
      const task = TASKS[i32[KIND]], total = i32[TOTAL];
      for (let t = Atomics.add(i32, NEXT, 1); t < total; t = Atomics.add(i32, NEXT, 1)) {
        try {
          task(ex, i32, f32, ARGS, t, scratch);
        } catch {
          Atomics.store(i32, ERR, 1);
        }
        if (Atomics.add(i32, DONE, 1) === total - 1) Atomics.notify(i32, DONE);
      }
    }
    if (Atomics.sub(i32, BUSY, 1) === 1) Atomics.notify(i32, BUSY);
  }
  Atomics.store(i32, STATE + index, 0);
  self.close();
};
`;
}

/** Worker threads sharing a WebAssembly memory with the calling thread. */
export class ThreadPool {
  /** Threads taking part in a job, the calling one included. */
  readonly threads: number;
  readonly #memory: WebAssembly.Memory;
  readonly #bytes: Uint8Array<ArrayBuffer>;
  readonly #tasks: readonly Task[];
  readonly #helpers: readonly Helper[];
  readonly #ex: TaskExports;
  readonly #scratch: (thread: number) => number;
  #i32: Int32Array;
  #f32: Float32Array;
  readonly #workers: (Worker | null)[];
  #url: string | null = null;
  #destroyed = false;
  #contendedUntil = 0;
  #absent = 0;

  /**
   * A pool of `threads - 1` workers (spawned on demand) over `memory`, each instantiating the module `bytes`;
   * `ex` is the calling thread's instance; `helpers` are the functions the tasks call. `scratch(t)` is thread `t`'s scratch offset (thread 0: the caller).
   */
  constructor(
    memory: WebAssembly.Memory,
    bytes: Uint8Array<ArrayBuffer>,
    ex: TaskExports,
    tasks: readonly Task[],
    helpers: readonly Helper[],
    threads: number,
    scratch: (thread: number) => number,
  ) {
    if (!(threads >= 1 && threads <= MAX_THREADS)) {
      throw new RangeError(`threads must be in [1, ${MAX_THREADS}]`);
    }
    this.threads = threads;
    this.#memory = memory;
    this.#bytes = bytes;
    this.#ex = ex;
    this.#tasks = tasks;
    this.#helpers = helpers;
    this.#scratch = scratch;
    this.#i32 = this.#f32 = null!;
    this.#views();
    this.#workers = new Array(threads - 1).fill(null);
  }

  // Views of the control block; an unshared memory detaches its buffer when it grows, so they are renewed.
  #views(): Int32Array {
    if (!this.#i32 || this.#i32.byteLength === 0) {
      this.#i32 = new Int32Array(this.#memory.buffer, 0, ARGS + 64);
      this.#f32 = new Float32Array(this.#memory.buffer, 0, ARGS + 64);
    }
    return this.#i32;
  }

  /**
   * Whether a recent job waited on a descheduled worker (see {@linkcode LATE_MS}): small jobs are then better run
   * on the calling thread alone. Results do not depend on it.
   */
  get contended(): boolean {
    return performance.now() < this.#contendedUntil;
  }

  /** Workers currently running (not yet exited). */
  get liveWorkers(): number {
    let n = 0;
    for (let w = 1; w < this.threads; w++) if (Atomics.load(this.#i32, STATE + w) !== 0) n++;
    return n;
  }

  /**
   * Runs task `kind` over `tiles` tiles on every thread; `writeArgs` fills the arguments (Int32/Float32 views
   * and the first slot) while no worker can read them. Returns when all tiles are done; throws if one failed.
   * With `parallel` false, or once destroyed, the calling thread runs every tile.
   */
  run(
    kind: number,
    tiles: number,
    writeArgs: (i32: Int32Array, f32: Float32Array, at: number) => void,
    parallel = true,
  ): void {
    const i32 = this.#views(), f32 = this.#f32;
    if (!parallel || this.#destroyed || this.threads === 1 || tiles <= 1) {
      writeArgs(i32, f32, ARGS);
      const task = this.#tasks[kind];
      for (let t = 0; t < tiles; t++) task(this.#ex, i32, f32, ARGS, t, this.#scratch(0));
      return;
    }
    const s = Atomics.load(i32, SEQ);
    Atomics.store(i32, SEQ, s + 1);
    const start = performance.now(), free = start + SPIN_MS;
    if (start >= this.#contendedUntil && i32[QUIET] !== 0) Atomics.store(i32, QUIET, 0);
    let b = Atomics.load(i32, BUSY);
    while (b !== 0 && performance.now() < free) b = Atomics.load(i32, BUSY);
    for (; b !== 0; b = Atomics.load(i32, BUSY)) Atomics.wait(i32, BUSY, b, 50);
    const ready = performance.now();
    writeArgs(i32, f32, ARGS);
    i32[KIND] = kind;
    i32[TOTAL] = tiles;
    i32[NEXT] = 0;
    i32[DONE] = 0;
    i32[ERR] = 0;
    Atomics.store(i32, SEQ, s + 2);
    Atomics.notify(i32, SEQ);
    this.#spawnMissing();
    const task = this.#tasks[kind], scratch = this.#scratch(0);
    let error: unknown = null, mine = 0;
    const published = performance.now();
    for (let t = Atomics.add(i32, NEXT, 1); t < tiles; t = Atomics.add(i32, NEXT, 1)) {
      try {
        task(this.#ex, i32, f32, ARGS, t, scratch);
      } catch (e) {
        error = e;
      }
      mine++;
      Atomics.add(i32, DONE, 1);
    }
    const own = performance.now(), until = own + SPIN_MS;
    let d = Atomics.load(i32, DONE);
    while (d < tiles && performance.now() < until) d = Atomics.load(i32, DONE);
    for (; d < tiles; d = Atomics.load(i32, DONE)) Atomics.wait(i32, DONE, d, 100);
    // Waiting for the workers to leave the last job and to finish this one (not the spawning of workers).
    const end = performance.now();
    const verdict = judgeJob({
      waitedMs: end - own + (ready - start),
      ownMs: own - published,
      mine,
      tiles,
      quiet: start < this.#contendedUntil,
    }, this.#absent);
    this.#absent = verdict.absent;
    if (verdict.contended) {
      this.#contendedUntil = end + CONTENDED_MS;
      Atomics.store(i32, QUIET, 1); // a spinning worker would take CPU time from this thread too
    }
    if (error) throw error;
    if (i32[ERR] !== 0) throw new Error("cpu backend: a kernel failed on a worker thread");
  }

  #spawnMissing(): void {
    for (let w = 1; w < this.threads; w++) {
      if (Atomics.load(this.#i32, STATE + w) !== 0) continue;
      this.#url ??= URL.createObjectURL(
        new Blob([workerSource(this.#tasks, this.#helpers)], { type: "application/javascript" }),
      );
      Atomics.store(this.#i32, STATE + w, 1);
      const worker = new Worker(this.#url, { type: "module" });
      worker.postMessage({
        memory: this.#memory,
        bytes: this.#bytes,
        index: w,
        scratch: this.#scratch(w),
        idleMs: IDLE_MS,
        spinMs: SPIN_MS,
      });
      this.#workers[w - 1]?.terminate(); // an earlier worker of this slot has exited by itself
      this.#workers[w - 1] = worker;
    }
  }

  /** Stops and terminates every worker; later jobs run on the calling thread alone. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#views();
    Atomics.store(this.#i32, STOP, 1);
    Atomics.add(this.#i32, SEQ, 2);
    Atomics.notify(this.#i32, SEQ);
    // Each worker clears its state slot as it exits; give them a moment (a worker still booting sees STOP first).
    const deadline = performance.now() + 2000;
    while (this.liveWorkers > 0 && performance.now() < deadline) Atomics.wait(this.#i32, STATE, 0, 1); // thread 0's slot stays 0: a 1 ms sleep
    for (const w of this.#workers) w?.terminate();
    for (let w = 1; w < this.threads; w++) Atomics.store(this.#i32, STATE + w, 0);
    this.#workers.fill(null);
    if (this.#url) URL.revokeObjectURL(this.#url);
  }
}
