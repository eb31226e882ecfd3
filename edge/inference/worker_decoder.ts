/**
 * An {@linkcode OnnxDecoder} in a Web Worker, behind the same `generate` interface: inference steps run off
 * the server's event loop, so HTTP handling and timers stay responsive while a model generates. A worker runs
 * up to `maxBatch` generations at once in one decode batch. Leaving the `for await` loop or aborting the
 * signal cancels the generation in the worker.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { GenerateItem, WorkerReply, WorkerRequest } from "./decoder_worker.ts";
import type { DecoderConfig } from "./model_config.ts";
import type { DecodeOptions, DecodeStats } from "./decode_batch.ts";
import {
  type ExecutionProvider,
  type ExternalData,
  onnxRuntimeUsedOnThisThread,
  type TokenGenerator,
} from "./onnx_decoder.ts";

/** A decoder whose inference runs in a dedicated Worker. */
export class WorkerDecoder implements TokenGenerator {
  /** The decoder's shapes and special ids. */
  readonly config: DecoderConfig;
  /** The most generations at once (the worker's decode batch). */
  readonly maxBatch: number;
  /** The worker's decode steps so far (as its `stats` messages report them). */
  stats: Readonly<DecodeStats> = { steps: 0, sequenceSteps: 0, peakBatch: 0, prefills: 0 };
  readonly #worker: Worker;
  readonly #listeners = new Map<number, (reply: WorkerReply) => void>();
  #nextId = 1;
  #active = 0;
  /** Generations asked for in this turn of the event loop, sent together at its end. */
  #starting: GenerateItem[] = [];

  private constructor(worker: Worker, config: DecoderConfig, maxBatch: number) {
    this.#worker = worker;
    this.config = config;
    this.maxBatch = maxBatch;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.type === "stats") this.stats = reply.stats;
      else if ("id" in reply) this.#listeners.get(reply.id)?.(reply);
    };
  }

  /**
   * Starts a worker and loads the model into it, to run up to `maxBatch` generations at once (default 1);
   * rejects (and stops the worker) if loading fails, and at once when this thread has run onnxruntime-web
   * itself (see `onnxRuntimeUsedOnThisThread`).
   */
  static load(
    model: Uint8Array,
    config: DecoderConfig,
    provider: ExecutionProvider,
    externalData?: ExternalData,
    maxBatch = 1,
  ): Promise<WorkerDecoder> {
    if (onnxRuntimeUsedOnThisThread()) {
      return Promise.reject(
        new Error(
          "WorkerDecoder.load: onnxruntime-web already ran on this thread, and Deno then starts workers " +
            "without a working global scope; use in-process decoders (workers: false) in this process",
        ),
      );
    }
    const worker = new Worker(new URL("./decoder_worker.ts", import.meta.url), { type: "module" });
    return new Promise((resolve, reject) => {
      worker.onerror = (event) => {
        event.preventDefault();
        worker.terminate();
        reject(new Error(`the decoder worker failed: ${event.message}`));
      };
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        if (event.data.type === "loaded") resolve(new WorkerDecoder(worker, config, event.data.maxBatch));
        else if (event.data.type === "load_failed") {
          worker.terminate();
          reject(new Error(event.data.message));
        }
      };
      const copy = model.slice();
      const data = externalData && { path: externalData.path, data: externalData.data.slice() };
      const request: WorkerRequest = {
        type: "load",
        model: copy,
        config,
        provider,
        externalData: data,
        maxBatch,
      };
      worker.postMessage(request, data ? [copy.buffer, data.data.buffer] : [copy.buffer]);
    });
  }

  /** Yields sampled token ids as the worker produces them (see {@linkcode OnnxDecoder.generate}). */
  async *generate(promptIds: readonly number[], options: DecodeOptions): AsyncGenerator<number> {
    if (this.#active >= this.maxBatch) {
      throw new Error(`WorkerDecoder: ${this.maxBatch} generations are already under way`);
    }
    options.signal?.throwIfAborted();
    this.#active++;
    const id = this.#nextId++;
    const queue: WorkerReply[] = [];
    let wake: (() => void) | undefined;
    const push = (reply: WorkerReply) => {
      queue.push(reply);
      wake?.();
    };
    this.#listeners.set(id, push);
    let finished = false;
    const onAbort = () => this.#send({ type: "cancel", id });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const { signal: _signal, ...rest } = options;
      if (this.#starting.length === 0) setImmediate(() => this.#flush());
      this.#starting.push({ id, promptIds: [...promptIds], options: rest });
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => wake = resolve);
        const reply = queue.shift() as WorkerReply;
        if (reply.type === "token") yield reply.token;
        else if (reply.type === "failed") {
          finished = true;
          throw new Error(reply.message);
        } else if (reply.type === "done") {
          finished = true;
          options.signal?.throwIfAborted();
          return;
        }
      }
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      if (!finished) {
        // The consumer left early: cancel, and wait for the worker to stop before taking another generation.
        this.#send({ type: "cancel", id });
        while (!queue.some((r) => r.type === "done" || r.type === "failed")) {
          await new Promise<void>((resolve) => wake = resolve);
        }
      }
      this.#listeners.delete(id);
      this.#active--;
    }
  }

  /** Sends the generations asked for so far in one message. */
  #flush(): void {
    if (this.#starting.length > 0) {
      this.#worker.postMessage({ type: "generate", items: this.#starting.splice(0) });
    }
  }

  /** Sends `message` after any generation not yet sent, so that a cancel never overtakes its generate. */
  #send(message: WorkerRequest): void {
    this.#flush();
    this.#worker.postMessage(message);
  }

  /** Stops the worker. */
  release(): Promise<void> {
    this.#worker.terminate();
    return Promise.resolve();
  }
}
