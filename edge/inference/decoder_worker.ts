/**
 * The Worker side of {@linkcode WorkerDecoder}: loads an {@linkcode OnnxDecoder} and runs the generations it
 * is sent in one decode batch, posting each token as it is sampled. Messages in: `load`, `generate`,
 * `cancel`; out: `loaded`, `load_failed`, `token`, `done`, `failed`, `stats` (after each prompt run and decode
 * step). Running inference here keeps the server's event loop free: HTTP
 * requests, verification and timers do not wait behind inference steps.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { DecoderConfig } from "./model_config.ts";
import type { DecodeOptions, DecodeStats } from "./decode_batch.ts";
import type { ExecutionProvider, ExternalData, OnnxDecoder } from "./onnx_decoder.ts";

/** One generation to start: its id, prompt and options. */
export interface GenerateItem {
  id: number;
  promptIds: number[];
  options: Omit<DecodeOptions, "signal">;
}

/**
 * Messages the host sends. `generate` carries every generation asked for in one turn of the host's event loop
 * (a request's n choices), so that they join the decode batch together and share their prompt's run.
 */
export type WorkerRequest =
  | {
    type: "load";
    model: Uint8Array;
    config: DecoderConfig;
    provider: ExecutionProvider;
    externalData?: ExternalData;
    maxBatch: number;
  }
  | { type: "generate"; items: GenerateItem[] }
  | { type: "cancel"; id: number };

/** Messages the worker sends back. */
export type WorkerReply =
  | { type: "loaded"; maxBatch: number }
  | { type: "load_failed"; message: string }
  | { type: "token"; id: number; token: number }
  | { type: "done"; id: number }
  | { type: "failed"; id: number; message: string }
  | { type: "stats"; stats: DecodeStats };

/**
 * onnxruntime-web reads `location.origin` when it loads and, in a worker started from a file: URL, gets the
 * string "null", which it cannot use as a base URL. Hiding `location` before importing it makes it resolve its
 * files from its own module URL, as it does on the main thread.
 */
const decoderModule = (() => {
  Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
  return import("./onnx_decoder.ts");
})();

let decoder: OnnxDecoder | undefined;
const running = new Map<number, AbortController>();

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function generate(
  id: number,
  promptIds: number[],
  options: Omit<DecodeOptions, "signal">,
): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    if (!decoder) throw new Error("the model is not loaded");
    for await (const token of decoder.generate(promptIds, { ...options, signal: controller.signal })) {
      reply({ type: "token", id, token });
    }
    reply({ type: "done", id });
  } catch (err) {
    if (controller.signal.aborted) reply({ type: "done", id });
    else reply({ type: "failed", id, message: errorText(err) });
  } finally {
    running.delete(id);
  }
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  if (message.type === "load") {
    try {
      const { OnnxDecoder } = await decoderModule;
      decoder = await OnnxDecoder.load(
        message.model,
        message.config,
        message.provider,
        message.externalData,
        message.maxBatch,
        (stats) => reply({ type: "stats", stats }),
      );
      reply({ type: "loaded", maxBatch: decoder.maxBatch });
    } catch (err) {
      reply({ type: "load_failed", message: errorText(err) });
    }
  } else if (message.type === "generate") {
    // Not awaited: later generations join these ones' decode batch.
    for (const item of message.items) generate(item.id, item.promptIds, item.options);
  } else if (message.type === "cancel") {
    running.get(message.id)?.abort();
  }
};
