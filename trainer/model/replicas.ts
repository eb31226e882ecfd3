/**
 * Data-parallel decoding on the CPU: worker threads, each with a one-thread CPU backend and a copy of the
 * model's weights, decode contiguous parts of a batch of prompts side by side.
 *
 * Why: the trainer's model is small (hidden size 64), so each operation of a decoding step is a few microseconds
 * of arithmetic and splitting it over threads gains nothing (measured: a 16 x 8-sample sampling step took 125 ms
 * on one thread, 140 ms on two). Whole parts of the batch on threads of their own keep every core busy instead.
 *
 * The tokens are those of one {@linkcode generate} call over the whole batch: each part numbers its sampling
 * streams from its first prompt (`promptOffset`), and the CPU backend computes every row the same whatever batch
 * it is in.
 *
 * ```ts
 * const replicas = new DecodeReplicas(2);
 * const sequences = await replicas.decoderFor(model).generate(prompts, { maxNewTokens: 48, temperature: 1 });
 * replicas.close();
 * ```
 *
 * @module
 */

import {
  checkPromptSeeds,
  type DelegateDecoder,
  type GeneratedSequence,
  type GenerateOptions,
} from "./decode.ts";
import type { ModelConfig } from "./config.ts";
import type { Model } from "./model.ts";

/** What the replicas need of a model: its shape and its weights, read when they change. */
export type ReplicableModel = Pick<Model, "config" | "head" | "weightsVersion" | "getParams">;

/** A message to a replica thread. */
export type ReplicaCall =
  | { kind: "weights"; config: ModelConfig; params: Float32Array }
  | { kind: "generate"; id: number; prompts: Uint32Array[]; options: GenerateOptions }
  | { kind: "close" };

/** A replica's answer to a `generate` call. */
export type ReplicaReply =
  | { id: number; ok: true; sequences: GeneratedSequence[] }
  | { id: number; ok: false; error: { name: string; message: string } };

/** The most replica threads. */
export const MAX_REPLICAS = 64;

/** A set of decoding threads; see the module doc. Threads start at the first call and end with `close`. */
export class DecodeReplicas {
  /** Threads the batch is split over. */
  readonly count: number;
  #workers: Worker[] = [];
  readonly #pending = new Map<
    number,
    { resolve: (s: GeneratedSequence[]) => void; reject: (e: Error) => void }
  >();
  #next = 0;
  /** The model and weights version the threads hold. */
  #holds: { model: ReplicableModel; version: number } | null = null;
  #stopped: Error | null = null;

  /** Replicas on `count` threads (1 to {@linkcode MAX_REPLICAS}). */
  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_REPLICAS) {
      throw new RangeError(`DecodeReplicas: count must be an integer in [1, ${MAX_REPLICAS}], got ${count}`);
    }
    this.count = count;
  }

  /** Threads running now (0 before the first call and after `close`). */
  get liveThreads(): number {
    return this.#workers.length;
  }

  /** A decoder of `model` that runs on these threads (`generate` as {@linkcode generate} on the model). */
  decoderFor(model: ReplicableModel): DelegateDecoder {
    return { generate: (prompts, options) => this.generate(model, prompts, options) };
  }

  /**
   * What `generate(model, prompts, options)` returns, decoded on the threads: the prompts are split into
   * `count` contiguous parts of nearly equal size. The threads take `model`'s weights first when they hold
   * other ones. A bad option or prompt is a RangeError, as from `generate`.
   */
  async generate(
    model: ReplicableModel,
    prompts: readonly ArrayLike<number>[],
    options: GenerateOptions,
  ): Promise<GeneratedSequence[]> {
    if (this.#stopped) throw this.#stopped;
    if (model.head !== "lm") throw new RangeError("DecodeReplicas: the model must have an LM head");
    const P = prompts.length;
    if (P === 0) return [];
    const ps = options.promptSeeds;
    checkPromptSeeds(ps, P); // before the split: a part's slice could not tell a wrong count
    this.#start();
    if (this.#holds?.model !== model || this.#holds.version !== model.weightsVersion) {
      const version = model.weightsVersion, params = await model.getParams();
      for (const w of this.#workers) w.postMessage({ kind: "weights", config: model.config, params });
      this.#holds = { model, version };
    }
    const parts = Math.min(this.count, P), offset = options.promptOffset ?? 0;
    const calls: Promise<GeneratedSequence[]>[] = [];
    const starts: number[] = [];
    for (let i = 0; i < parts; i++) {
      const start = Math.floor(i * P / parts), end = Math.floor((i + 1) * P / parts);
      starts.push(start);
      const part = prompts.slice(start, end).map((p) => Uint32Array.from(p as ArrayLike<number>));
      const own: GenerateOptions = ps
        ? { ...options, promptSeeds: ps.slice(start, end) }
        : { ...options, promptOffset: offset + start };
      calls.push(this.#call(this.#workers[i], part, own));
    }
    const results = await Promise.all(calls);
    return results.flatMap((seqs, i) => seqs.map((s) => ({ ...s, promptIndex: s.promptIndex + starts[i] })));
  }

  /** Ends the threads (each frees its model and backend first); later calls fail. Calls pending are rejected. */
  close(): void {
    if (this.#stopped) return;
    for (const w of this.#workers) w.postMessage({ kind: "close" } satisfies ReplicaCall);
    this.#stop(new Error("the decode replicas are closed"), false);
  }

  #start(): void {
    if (this.#workers.length > 0) return;
    for (let i = 0; i < this.count; i++) {
      const w = new Worker(new URL("./replica_worker.ts", import.meta.url), { type: "module" });
      w.onmessage = (event: MessageEvent<ReplicaReply>) => {
        const reply = event.data, waiting = this.#pending.get(reply.id);
        if (!waiting) return;
        this.#pending.delete(reply.id);
        if (reply.ok) waiting.resolve(reply.sequences);
        else {
          const e = reply.error.name === "RangeError"
            ? new RangeError(reply.error.message)
            : new Error(reply.error.message);
          waiting.reject(e);
        }
      };
      w.onerror = (event) => {
        // An error that escaped the thread: it has stopped, so nothing pending will be answered.
        event.preventDefault();
        this.#stop(new Error(`a decode replica stopped: ${event.message}`), true);
      };
      this.#workers.push(w);
    }
  }

  #call(worker: Worker, prompts: Uint32Array[], options: GenerateOptions): Promise<GeneratedSequence[]> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ kind: "generate", id, prompts, options } satisfies ReplicaCall);
    });
  }

  #stop(reason: Error, terminate: boolean): void {
    this.#stopped = reason;
    if (terminate) { for (const w of this.#workers) w.terminate(); }
    this.#workers = [];
    this.#holds = null;
    for (const waiting of this.#pending.values()) waiting.reject(reason);
    this.#pending.clear();
  }
}
