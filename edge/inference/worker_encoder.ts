/**
 * A {@linkcode PromptEncoder} whose tokenizer runs in a Web Worker: a 64 KB prompt takes the worker, not the
 * server's event loop, for the time it takes to tokenise. Prompts are encoded one after the other.
 *
 * @module
 */

import type { TokenizerFiles } from "../../core/tokenizer/mod.ts";
import type { EncoderReply, EncoderRequest } from "./encoder_worker.ts";
import type { PromptEncoder, PromptInput } from "./prompt_encoding.ts";

/** Prompt encoding in a dedicated Worker. */
export class WorkerEncoder implements PromptEncoder {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (ids: Uint32Array) => void; reject: (err: Error) => void }
  >();
  #nextId = 1;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<EncoderReply>) => {
      const reply = event.data;
      if (reply.type !== "encoded" && reply.type !== "failed") return;
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.type === "encoded") waiter?.resolve(reply.ids);
      else waiter?.reject(new Error(reply.message));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      for (const waiter of this.#pending.values()) waiter.reject(new Error("the encoder worker failed"));
      this.#pending.clear();
    };
  }

  /** Starts a worker with the tokenizer of `files`; rejects (and stops it) when the tokenizer cannot be built. */
  static load(files: TokenizerFiles): Promise<WorkerEncoder> {
    const worker = new Worker(new URL("./encoder_worker.ts", import.meta.url), { type: "module" });
    return new Promise((resolve, reject) => {
      worker.onerror = (event) => {
        event.preventDefault();
        worker.terminate();
        reject(new Error(`the encoder worker failed: ${event.message}`));
      };
      worker.onmessage = (event: MessageEvent<EncoderReply>) => {
        if (event.data.type === "loaded") resolve(new WorkerEncoder(worker));
        else if (event.data.type === "load_failed") {
          worker.terminate();
          reject(new Error(event.data.message));
        }
      };
      const request: EncoderRequest = { type: "load", files };
      worker.postMessage(request);
    });
  }

  /** The prompt's token ids, computed in the worker. */
  encode(prompt: PromptInput): Promise<Uint32Array> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const request: EncoderRequest = { type: "encode", id, prompt };
      this.#worker.postMessage(request);
    });
  }

  /** Stops the worker; prompts still waiting are rejected. */
  close(): void {
    this.#worker.terminate();
    for (const waiter of this.#pending.values()) waiter.reject(new Error("the encoder was closed"));
    this.#pending.clear();
  }
}
