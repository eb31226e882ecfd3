/**
 * The Worker side of {@linkcode WorkerEncoder}: builds the model folder's tokenizer from its files and encodes
 * prompts, so that tokenising a long prompt never holds the server's event loop. Messages in: `load` (the
 * folder's tokenizer files), `encode`; out: `loaded`, `load_failed`, `encoded`, `failed`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type TokenizerFiles, tokenizerFromFiles } from "../../core/tokenizer/mod.ts";
import { addedTokenTexts, encodePrompt, type PromptInput } from "./prompt_encoding.ts";

/** Messages the host sends. */
export type EncoderRequest =
  | { type: "load"; files: TokenizerFiles }
  | { type: "encode"; id: number; prompt: PromptInput };

/** Messages the worker sends back. */
export type EncoderReply =
  | { type: "loaded" }
  | { type: "load_failed"; message: string }
  | { type: "encoded"; id: number; ids: Uint32Array }
  | { type: "failed"; id: number; message: string };

let encode: ((prompt: PromptInput) => number[]) | undefined;

function reply(message: EncoderReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.onmessage = (event: MessageEvent<EncoderRequest>) => {
  const message = event.data;
  if (message.type === "load") {
    try {
      const { tokenizer } = tokenizerFromFiles(message.files);
      const added = addedTokenTexts(tokenizer);
      encode = (prompt) => encodePrompt(tokenizer, added, prompt);
      reply({ type: "loaded" });
    } catch (err) {
      reply({ type: "load_failed", message: err instanceof Error ? err.message : String(err) });
    }
  } else if (message.type === "encode") {
    try {
      if (!encode) throw new Error("the tokenizer is not loaded");
      const ids = Uint32Array.from(encode(message.prompt));
      reply({ type: "encoded", id: message.id, ids }, [ids.buffer]);
    } catch (err) {
      reply({ type: "failed", id: message.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
};
