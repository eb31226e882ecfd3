/**
 * The thread side of {@linkcode DecodeReplicas} (`replicas.ts`): a one-thread CPU backend and a model copy. It
 * takes weights (a new model when the shape changes), answers each `generate` call with `generate`'s sequences
 * or its error, one call at a time in the order sent, and on `close` frees everything and ends the thread.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createCpuBackend } from "../gpu/cpu/mod.ts";
import type { Backend } from "../gpu/backend.ts";
import { generate } from "./decode.ts";
import { Model } from "./model.ts";
import type { ReplicaCall, ReplicaReply } from "./replicas.ts";

let backend: Backend | null = null;
let model: Model | null = null;
let queue: Promise<void> = Promise.resolve();

function hold(call: Extract<ReplicaCall, { kind: "weights" }>): void {
  if (model === null || JSON.stringify(model.config) !== JSON.stringify(call.config)) {
    model?.dispose();
    backend ??= createCpuBackend({ threads: 1 });
    model = new Model(call.config, backend, "lm");
  }
  model.setParams(call.params);
}

async function answer(call: Extract<ReplicaCall, { kind: "generate" }>): Promise<ReplicaReply> {
  try {
    if (model === null) throw new Error("the decode replica holds no weights");
    const sequences = await generate(model, call.prompts, call.options);
    return { id: call.id, ok: true, sequences };
  } catch (e) {
    const error = e instanceof Error
      ? { name: e.name, message: e.message }
      : { name: "Error", message: String(e) };
    return { id: call.id, ok: false, error };
  }
}

self.onmessage = (event: MessageEvent<ReplicaCall>) => {
  const call = event.data;
  queue = queue.then(async () => {
    if (call.kind === "weights") hold(call);
    else if (call.kind === "generate") {
      const reply = await answer(call);
      self.postMessage(reply, reply.ok ? reply.sequences.map((s) => s.tokens.buffer as ArrayBuffer) : []);
    } else {
      model?.dispose();
      backend?.destroy();
      self.close();
    }
  });
};
