/**
 * The messages between a {@linkcode VerifyPool} and its workers, and the worker side of the exchange. The host
 * sends batches of items; the worker answers each item with one message, in order, so the host can tell which
 * item a stuck worker is working on.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { Verdict } from "../../core/verify/mod.ts";

/** One item as the worker receives it. */
export interface WorkItem {
  /** The reference answer. */
  gold: string;
  /** The model's response. */
  response: string;
  /** True when generation hit its length limit. */
  truncated: boolean;
  /** The verifier's own (cooperative) time budget, in milliseconds. */
  timeoutMs: number;
}

/** Host → worker: verify these items in order. */
export interface WorkBatch {
  /** The items. */
  items: WorkItem[];
}

/** Worker → host: `ready` once loaded, then one `verdict` per item in order (or `failed` when it threw). */
export type WorkReply =
  | { type: "ready" }
  | { type: "verdict"; verdict: Verdict }
  | { type: "failed"; message: string };

/** The verifier a worker runs: `core/verify`'s `verify` or a function of the same shape. */
export type SyncVerify = (
  gold: string,
  response: string,
  options: { truncated: boolean; timeoutMs: number },
) => Verdict;

/**
 * Makes the calling worker serve `verify`: it posts `ready`, then answers every {@linkcode WorkBatch}. A
 * worker module is this call and nothing else (see `verify_worker.ts`).
 */
export function serveVerifier(verify: SyncVerify): void {
  self.onmessage = (event: MessageEvent<WorkBatch>) => {
    for (const item of event.data.items) {
      let reply: WorkReply;
      try {
        reply = { type: "verdict", verdict: verify(item.gold, item.response, item) };
      } catch (err) {
        reply = { type: "failed", message: err instanceof Error ? err.message : String(err) };
      }
      self.postMessage(reply);
    }
  };
  self.postMessage({ type: "ready" } satisfies WorkReply);
}
