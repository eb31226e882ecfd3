import { assertEquals } from "@std/assert";
import { verify } from "../../core/verify/mod.ts";
import type { Verdict } from "../../core/verify/mod.ts";
import { INLINE_MAX_CHARS, inlineFirst } from "./inline.ts";

/** A stand-in pool that records what it was given and answers with `core/verify`. */
function recordingPool() {
  const calls: string[] = [];
  const pooled = (gold: string, response: string) => {
    calls.push(response);
    return Promise.resolve(verify(gold, response));
  };
  return { calls, pooled };
}

Deno.test("inlineFirst: small items are verified on this thread, large ones in the pool, same verdicts", async () => {
  const { calls, pooled } = recordingPool();
  const check = inlineFirst(verify, pooled);
  const small = check("42", "so \\boxed{42}", { timeoutMs: 2000 });
  assertEquals(small instanceof Promise, false);
  assertEquals(small, verify("42", "so \\boxed{42}"));
  const large = "x".repeat(INLINE_MAX_CHARS) + " \\boxed{42}";
  assertEquals(await check("42", large, { timeoutMs: 2000 }), verify("42", large));
  assertEquals(calls, [large]);
});

Deno.test("inlineFirst: an inline run out of its budget, or an item past its start time, goes to the pool", async () => {
  const { calls, pooled } = recordingPool();
  const budgets: number[] = [];
  const slow = (_g: string, _r: string, o: { timeoutMs: number }): Verdict => {
    budgets.push(o.timeoutMs);
    return { correct: false, status: "timeout", extracted: null, reason: "the time budget was exceeded" };
  };
  const check = inlineFirst(slow, pooled, { budgetMs: 3 });
  assertEquals((await check("1", "\\boxed{1}", { timeoutMs: 2000 })).status, "correct");
  assertEquals(budgets, [3]);
  await check("1", "late \\boxed{1}", { timeoutMs: 2000, startBy: performance.now() - 1 });
  assertEquals(budgets, [3]);
  assertEquals(calls, ["\\boxed{1}", "late \\boxed{1}"]);
});
