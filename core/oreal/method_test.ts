import { assertEquals, assertThrows } from "@std/assert";
import { defaultMethodConfig, isMethod, isOrealLoss, METHODS } from "./method.ts";

Deno.test("defaultMethodConfig: docs/OREAL.md's defaults for every method", () => {
  for (const method of METHODS) {
    assertEquals(defaultMethodConfig(method), {
      method,
      positiveFactor: 1.0,
      negativeFactor: 0.5,
      klCoef: 0.01,
      posMultAdv: true,
      weightMode: "prefix-mean",
    });
  }
  assertEquals(METHODS, ["oreal", "oreal-oracle", "oreal-no-rm", "grpo", "reinforce", "reinforce-01", "rft"]);
});

Deno.test("isMethod and unknown methods", () => {
  assertEquals([isMethod("grpo"), isMethod("ppo"), isMethod(3)], [true, false, false]);
  assertThrows(() => defaultMethodConfig("ppo" as never), RangeError, "unknown method");
});

Deno.test("isOrealLoss: the pair-based methods", () => {
  assertEquals(METHODS.filter(isOrealLoss), ["oreal", "oreal-oracle", "oreal-no-rm"]);
});
