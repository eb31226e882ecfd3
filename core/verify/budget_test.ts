import { assertThrows } from "@std/assert";
import { Budget, LimitError, LIMITS, TimeoutError, unlimitedBudget } from "./budget.ts";

Deno.test("budget: an expired deadline throws TimeoutError from check and from tick", () => {
  const b = new Budget(-1);
  assertThrows(() => b.check(), TimeoutError);
  assertThrows(() => {
    for (let i = 0; i < 1000; i++) b.tick();
  }, TimeoutError);
});

Deno.test("budget: the node limit throws LimitError; an unlimited budget still counts nodes", () => {
  const b = unlimitedBudget();
  b.check();
  assertThrows(() => {
    for (let i = 0; i <= LIMITS.maxNodes; i++) b.node();
  }, LimitError);
});
