/**
 * Verification of small items on the calling thread, the rest in a {@linkcode VerifyPool}. Passing an item
 * to a worker and its verdict back costs more than verifying a short answer (tens of microseconds against a
 * few), so a pool alone roughly halves the server's `/v1/verify` throughput. Small items are safe to verify
 * inline because the verifier's work is bounded by its input: answer extraction is linear-time, parsing and
 * evaluation have node, depth and exponent limits, and `bench/edge_inline_bound.ts` searches for the slowest
 * item of at most {@linkcode INLINE_MAX_CHARS} characters (see the README for the bound measured). On top of
 * that an inline run gets a short cooperative budget, and an item that runs out of it is verified again in
 * the pool with its full budget, so no verdict depends on where it was computed. And since many small items
 * (a batch of 256, or many requests at once) add up, inline work draws on a credit of thread time, at most
 * {@linkcode INLINE_BURST_MS}, that grows by half of the time the thread spends on anything else: once it is
 * spent, items go to the pool until it has grown back. So inline verification holds the thread for at most
 * about that long at a time (plus one item), and for at most a third of its time overall.
 *
 * @module
 */

import type { Verdict } from "../../core/verify/mod.ts";
import type { VerifyFunction } from "../routes/verify.ts";

/** Most characters (gold plus response) of an item verified on the calling thread. */
export const INLINE_MAX_CHARS = 1024;

/** Cooperative budget of an inline verification, in milliseconds; past it the item goes to the pool. */
export const INLINE_BUDGET_MS = 2;

/** Most thread time inline verifications may take back to back, in milliseconds. */
export const INLINE_BURST_MS = 2;

/** The verifier for one item on this thread, as `core/verify`'s `verify` is called. */
export type InlineVerify = (
  gold: string,
  response: string,
  options: { truncated: boolean; timeoutMs: number },
) => Verdict;

/**
 * A {@linkcode VerifyFunction} that verifies items of at most `maxChars` characters with `inline` (under a
 * budget of `budgetMs` each, while the credit of `burstMs` lasts) and hands the others, and the inline runs
 * that ran out of budget, to `pooled`. `clock` (default `performance.now`) measures the thread's time.
 */
export function inlineFirst(
  inline: InlineVerify,
  pooled: VerifyFunction,
  options: { maxChars?: number; budgetMs?: number; burstMs?: number; clock?: () => number } = {},
): VerifyFunction {
  const clock = options.clock ?? (() => performance.now());
  const maxChars = options.maxChars ?? INLINE_MAX_CHARS;
  const budgetMs = options.budgetMs ?? INLINE_BUDGET_MS;
  const burstMs = options.burstMs ?? INLINE_BURST_MS;
  let credit = burstMs;
  let refilled = clock();
  return (gold, response, itemOptions = {}) => {
    if (gold.length + response.length > maxChars) return pooled(gold, response, itemOptions);
    const now = clock();
    credit = Math.min(burstMs, credit + (now - refilled) / 2);
    refilled = now;
    if (credit <= 0) return pooled(gold, response, itemOptions);
    if (itemOptions.startBy !== undefined && now > itemOptions.startBy) {
      return pooled(gold, response, itemOptions); // the pool answers it `timeout`, as it would any late item
    }
    const verdict = inline(gold, response, {
      truncated: itemOptions.truncated ?? false,
      timeoutMs: Math.min(budgetMs, itemOptions.timeoutMs ?? budgetMs),
    });
    // Time spent here is not refilled: only time the thread spends on other things is.
    refilled = clock();
    credit -= refilled - now;
    return verdict.status === "timeout" ? pooled(gold, response, itemOptions) : verdict;
  };
}
