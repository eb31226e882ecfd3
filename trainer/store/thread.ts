/**
 * A store that runs on a worker thread of its own. PGlite is PostgreSQL compiled to WebAssembly and runs on the
 * thread that calls it: on the trainer's main thread, creating a fresh database took 3-5 s and each step's write
 * 10-20 ms, during which the model's compute stood still. Here the database works beside the compute, so a caller
 * can let a write run while it goes on, and a fresh database is created while the trainer starts.
 *
 * ```ts
 * const store = openStoreThread({ dataDir: ".oreal/db" });
 * const runId = await store.createRun({ name: "r1", method: "oreal", config: {} });
 * await store.close();
 * ```
 *
 * Calls are sent at once and run in the order sent, after the store has opened; a failed open fails every call
 * with its error. Errors come back as `StoreInputError` (with its field), `StoreConnectError`, or `Error`.
 *
 * @module
 */

import { holdsNoDatabase, redactUrl, StoreConnectError } from "./connect.ts";
import { DEFAULT_DATA_DIR, type OpenStoreOptions, type Store } from "./store.ts";
import { StoreInputError } from "./validate.ts";

/** The methods of a {@linkcode Store} a training run uses, which a {@linkcode StoreThread} serves as well. */
export type RunStore = Pick<
  Store,
  | "driver"
  | "target"
  | "findRun"
  | "createRun"
  | "setRunStatus"
  | "upsertProblems"
  | "writeStep"
  | "recordCheckpoint"
  | "close"
>;

type Method = Exclude<keyof RunStore, "driver" | "target">;

/** A message to the store's thread: open it (the first), or call one of its methods. */
export type StoreCall =
  | { id: number; method: "open"; args: [OpenStoreOptions] }
  | { id: number; method: Method; args: unknown[] };

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  /** The field of a `StoreInputError`. */
  field?: string;
}

/** The answer to a {@linkcode StoreCall}. */
export type StoreReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError };

function fromWire(e: WireError): Error {
  const error = e.name === "StoreInputError"
    ? new StoreInputError(e.field ?? "", "")
    : e.name === "StoreConnectError"
    ? new StoreConnectError(e.message)
    : new Error(e.message);
  error.message = e.message;
  return error;
}

/**
 * Whether opening the store with `options` creates a new PGlite database: a PGlite folder that holds none yet,
 * or memory. A new database holds no run, which lets a caller go on before it is ready.
 */
export async function createsDatabase(options: OpenStoreOptions): Promise<boolean> {
  if (options.databaseUrl !== undefined) return false;
  return await holdsNoDatabase(options.dataDir ?? DEFAULT_DATA_DIR);
}

/** Opens the store of `options` on a worker thread; usable at once (see the module doc). */
export function openStoreThread(options: OpenStoreOptions = {}): StoreThread {
  return new StoreThread(options);
}

/** A {@linkcode RunStore} whose database runs on a worker thread; made by {@linkcode openStoreThread}. */
export class StoreThread implements RunStore {
  /** `pglite` or `postgres`. */
  readonly driver: Store["driver"];
  /** Where the data is: the PGlite folder (or `memory://`) or the URL without its password. */
  readonly target: string;
  /** Settles when the store has opened (rejects with the reason it could not). */
  readonly ready: Promise<void>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;
  #stopped: Error | null = null;

  /** Starts the thread and opens the store there; {@linkcode openStoreThread} is what callers use. */
  constructor(options: OpenStoreOptions) {
    this.driver = options.databaseUrl === undefined ? "pglite" : "postgres";
    this.target = options.databaseUrl === undefined
      ? options.dataDir ?? DEFAULT_DATA_DIR
      : redactUrl(options.databaseUrl);
    this.#worker = new Worker(new URL("./thread_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<StoreReply>) => {
      const reply = event.data;
      const waiting = this.#pending.get(reply.id);
      if (!waiting) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(fromWire(reply.error));
    };
    this.#worker.onerror = (event) => {
      // An error that escaped the worker: it has stopped, so nothing pending will be answered.
      event.preventDefault();
      this.#stop(new Error(`the store thread stopped: ${event.message}`), true);
    };
    this.ready = this.#send("open", [options]).then(() => {});
    this.ready.catch(() => {}); // also reported by every call
  }

  #send(method: StoreCall["method"], args: unknown[]): Promise<unknown> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, method, args });
    });
  }

  /** Fails what is pending and every later call with `reason`; `terminate` ends a thread that did not end itself. */
  #stop(reason: Error, terminate: boolean): void {
    this.#stopped = reason;
    if (terminate) this.#worker.terminate();
    for (const waiting of this.#pending.values()) waiting.reject(reason);
    this.#pending.clear();
  }

  /** See {@linkcode Store.findRun}. */
  findRun(...args: Parameters<Store["findRun"]>): ReturnType<Store["findRun"]> {
    return this.#send("findRun", args) as ReturnType<Store["findRun"]>;
  }

  /** See {@linkcode Store.createRun}. */
  createRun(...args: Parameters<Store["createRun"]>): ReturnType<Store["createRun"]> {
    return this.#send("createRun", args) as ReturnType<Store["createRun"]>;
  }

  /** See {@linkcode Store.setRunStatus}. */
  setRunStatus(...args: Parameters<Store["setRunStatus"]>): ReturnType<Store["setRunStatus"]> {
    return this.#send("setRunStatus", args) as ReturnType<Store["setRunStatus"]>;
  }

  /** See {@linkcode Store.upsertProblems}. */
  upsertProblems(...args: Parameters<Store["upsertProblems"]>): ReturnType<Store["upsertProblems"]> {
    return this.#send("upsertProblems", args) as ReturnType<Store["upsertProblems"]>;
  }

  /** See {@linkcode Store.writeStep}. */
  writeStep(...args: Parameters<Store["writeStep"]>): ReturnType<Store["writeStep"]> {
    return this.#send("writeStep", args) as ReturnType<Store["writeStep"]>;
  }

  /** See {@linkcode Store.recordCheckpoint}. */
  recordCheckpoint(...args: Parameters<Store["recordCheckpoint"]>): ReturnType<Store["recordCheckpoint"]> {
    return this.#send("recordCheckpoint", args) as ReturnType<Store["recordCheckpoint"]>;
  }

  /**
   * Closes the store once every call sent before has run (PGlite writes its folder out); the thread then ends.
   * A store that never opened closes without error.
   */
  async close(): Promise<void> {
    if (this.#stopped) return;
    const closing = this.#send("close", []);
    const closed = new Error("the store is closed");
    this.#stopped = closed;
    try {
      await closing;
    } finally {
      this.#stop(closed, false);
    }
  }
}
