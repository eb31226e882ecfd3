import { assertEquals, assertThrows } from "@std/assert";
import { oracleWeights } from "./oracle_weights.ts";
import { tokenCoefficients } from "./coefficients.ts";
import { defaultMethodConfig } from "./method.ts";

Deno.test("oracleWeights: 1 on positives, 0 before a negative's first wrong token and 1 from it", () => {
  assertEquals([...oracleWeights(4, true, 1)], [1, 1, 1, 1]);
  assertEquals([...oracleWeights(5, false, 2)], [0, 0, 1, 1, 1]);
  assertEquals([...oracleWeights(3, false, 0)], [1, 1, 1]);
  assertEquals([...oracleWeights(3, false, 3)], [0, 0, 0]);
  assertEquals([...oracleWeights(2, false, null)], [1, 1]);
  assertThrows(() => oracleWeights(3, false, 4), RangeError);
  assertThrows(() => oracleWeights(-1, true, null), RangeError);
});

Deno.test("tokenCoefficients: oreal-oracle puts the negative gradient on the tokens from the first wrong one", () => {
  const f32 = (xs: number[]) => new Float32Array(xs);
  const samples = [
    {
      correct: true,
      advantage: 2,
      logprobs: f32([-1, -0.5]),
      refLogprobs: f32([-1, -0.5]),
      omega: oracleWeights(2, true, null),
    },
    {
      correct: false,
      advantage: -1,
      logprobs: f32([-2, -1, -0.1]),
      refLogprobs: f32([-2, -1, -0.1]),
      omega: oracleWeights(3, false, 1),
    },
  ];
  const r = tokenCoefficients(samples, defaultMethodConfig("oreal-oracle"));
  // Positive as oreal-no-rm: g = -(1/2) * 2 = -1 per token, L+ = 1.5.
  assertEquals([...r.dLogp[0]], [-1, -1]);
  // Negative: g = -(0.5/3) * (-1) * omega = [0, 1/6, 1/6]; L- = 2/6.
  assertEquals([...r.dLogp[1]].map((g) => Math.round(g * 1e6) / 1e6), [0, 0.166667, 0.166667]);
  assertEquals(Math.round(r.parts.negative * 1e6) / 1e6, 0.333333);
  assertThrows(
    () => tokenCoefficients([{ ...samples[1], omega: undefined }], defaultMethodConfig("oreal-oracle")),
    RangeError,
    "needs omega",
  );
  assertThrows(
    () => tokenCoefficients([{ ...samples[1], omega: f32([0, 2, 1]) }], defaultMethodConfig("oreal-oracle")),
    RangeError,
    "outside [0, 1]",
  );
});
