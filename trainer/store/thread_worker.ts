/**
 * The worker side of {@linkcode StoreThread} (`thread.ts`): opens a {@linkcode Store} from the first message,
 * then runs each call message against it, one at a time and in the order sent, and answers with its value or its
 * error (name, message and, for a `StoreInputError`, the field). A `close` message closes the store and ends the
 * thread.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { openStore, type Store } from "./store.ts";
import { StoreInputError } from "./validate.ts";
import type { StoreCall, StoreReply, WireError } from "./thread.ts";

let store: Promise<Store> | null = null;
let queue: Promise<void> = Promise.resolve();

function wireError(e: unknown): WireError {
  if (e instanceof StoreInputError) return { name: e.name, message: e.message, field: e.field };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

async function answer(call: StoreCall): Promise<StoreReply> {
  try {
    if (call.method === "open") {
      store = openStore(call.args[0]);
      await store;
      return { id: call.id, ok: true, value: null };
    }
    if (call.method === "close") {
      // A store that failed to open has nothing to close; the thread ends either way (see onmessage).
      const opened = await store?.catch(() => null);
      await opened?.close();
      return { id: call.id, ok: true, value: null };
    }
    if (store === null) throw new Error("the store thread was not opened");
    const opened = await store;
    // deno-lint-ignore no-explicit-any
    const value = await (opened[call.method] as (...args: any[]) => Promise<unknown>)(...call.args);
    return { id: call.id, ok: true, value };
  } catch (e) {
    return { id: call.id, ok: false, error: wireError(e) };
  }
}

self.onmessage = (event: MessageEvent<StoreCall>) => {
  queue = queue.then(async () => {
    self.postMessage(await answer(event.data));
    // The thread ends itself once the store is closed: terminating it from outside could stop it inside
    // PGlite's file operations.
    if (event.data.method === "close") self.close();
  });
};
