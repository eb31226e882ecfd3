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

Deno.test("inlineFirst: once inline work has used up its burst of thread time, items go to the pool", async () => {
  const { calls, pooled } = recordingPool();
  let now = 0;
  const busy = (gold: string, response: string, o: { truncated: boolean; timeoutMs: number }): Verdict => {
    now += 2; // each inline verification takes 2 ms
    return verify(gold, response, o);
  };
  const check = inlineFirst(busy, pooled, { burstMs: 5, clock: () => now });
  const verdicts = await Promise.all(Array.from({ length: 10 }, (_, i) => check(`${i}`, `\\boxed{${i}}`)));
  assertEquals(verdicts.map((v) => v.status), Array(10).fill("correct"));
  // 5 ms of credit: three items of 2 ms run inline (the third overdraws it), the other seven in the pool.
  assertEquals(calls.length, 7);
  // The credit grows back by half the time spent elsewhere: after 4 ms, one more item runs inline.
  now += 4;
  check("1", "\\boxed{1}");
  assertEquals(calls.length, 7);
  check("1", "\\boxed{1}");
  assertEquals(calls.length, 8);
});
