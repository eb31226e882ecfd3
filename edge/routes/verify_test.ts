import { assertEquals, assertThrows } from "@std/assert";
import type { Verdict } from "../../core/verify/mod.ts";
import { ApiError } from "../http/errors.ts";
import { parseVerifyRequest, rewardOf, verifyItems } from "./verify.ts";

const RIGHT: Verdict = { correct: true, status: "correct", extracted: "1", reason: "equal" };
const WRONG: Verdict = { correct: false, status: "wrong", extracted: "2", reason: "differs" };

Deno.test("parseVerifyRequest: single and batch bodies; numeric gold becomes a string", () => {
  assertEquals(parseVerifyRequest({ gold: 3, response: "x", truncated: true }, 2), {
    items: [{ gold: "3", response: "x", truncated: true }],
    batch: false,
    rewardFormat: undefined,
  });
  assertEquals(parseVerifyRequest({ items: [{ gold: "a", response: "b" }], reward_format: "zero_one" }, 2), {
    items: [{ gold: "a", response: "b" }],
    batch: true,
    rewardFormat: "zero_one",
  });
});

Deno.test("parseVerifyRequest: wrong types and batch limits are 400s naming the field", () => {
  const cases: [unknown, string][] = [
    [{ response: "x" }, "gold"],
    [{ gold: {}, response: "x" }, "gold"],
    [{ gold: "1" }, "response"],
    [{ gold: "1", response: 5 }, "response"],
    [{ gold: "1", response: "x", truncated: "yes" }, "truncated"],
    [{ items: "x" }, "items"],
    [{ items: [] }, "items"],
    [{ items: [{ gold: "1", response: "x" }, { gold: "1" }] }, "items[1].response"],
    [{ items: [1, 2, 3] }, "items"],
    [{ gold: "1", response: "x", reward_format: "binary" }, "reward_format"],
  ];
  for (const [body, param] of cases) {
    const err = assertThrows(() => parseVerifyRequest(body, 2), ApiError) as ApiError;
    assertEquals([err.status, err.param], [400, param]);
  }
});

Deno.test("rewardOf: 1 / -1 or 1 / 0", () => {
  assertEquals([rewardOf(RIGHT, "plus_minus_one"), rewardOf(WRONG, "plus_minus_one")], [1, -1]);
  assertEquals([rewardOf(RIGHT, "zero_one"), rewardOf(WRONG, "zero_one")], [1, 0]);
});

Deno.test("verifyItems: passes the time left to each call and times out the items after the deadline", async () => {
  const budgets: number[] = [];
  // The second call outlasts the request's whole budget.
  const verify = (gold: string, _response: string, options?: { timeoutMs?: number }): Verdict => {
    const budget = options?.timeoutMs ?? 0;
    budgets.push(budget);
    if (budgets.length === 2) {
      const until = performance.now() + 201; // past the request's deadline
      while (performance.now() < until) { /* busy, like a slow comparison */ }
      return { correct: false, status: "timeout", extracted: null, reason: "slow" };
    }
    return gold === "1" ? RIGHT : WRONG;
  };
  const items = [{ gold: "1", response: "" }, { gold: "2", response: "" }, { gold: "1", response: "" }];
  const results = await verifyItems(verify, items, { timeLimitMs: 200, itemTimeLimitMs: 150 }, "zero_one");
  assertEquals(results.map((r) => [r.status, r.reward]), [["correct", 1], ["timeout", 0], ["timeout", 0]]);
  assertEquals(results[2].reason, "the request's time limit ran out");
  assertEquals(budgets.length, 2); // the third item was not run
  assertEquals(budgets, [150, 150]); // the item limit, below the time left of the request's 200 ms
});

Deno.test("verifyItems: an asynchronous verifier gets every item at once, with the request's deadline", async () => {
  const seen: { startBy?: number }[] = [];
  const verify = (gold: string, _r: string, options?: { startBy?: number }) => {
    seen.push(options ?? {});
    return Promise.resolve(gold === "1" ? RIGHT : WRONG);
  };
  const t0 = performance.now();
  const items = [{ gold: "1", response: "" }, { gold: "2", response: "" }];
  const results = await verifyItems(
    verify,
    items,
    { timeLimitMs: 500, itemTimeLimitMs: 100 },
    "plus_minus_one",
  );
  assertEquals(results.map((r) => r.reward), [1, -1]);
  assertEquals(seen.length, 2);
  for (const s of seen) assertEquals(Math.abs((s.startBy ?? 0) - (t0 + 500)) < 50, true);
});
