import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { tokenWeights } from "./token_weights.ts";

// 2 sigmoid(c) - 1 = tanh(c / 2): tanh(1) = 0.7615942, tanh(0.5) = 0.4621172.
function close(actual: Float32Array, expected: number[]) {
  assertEquals(actual.length, expected.length);
  actual.forEach((a, i) => assertAlmostEquals(a, expected[i], 1e-6, `token ${i}`));
}

Deno.test("tokenWeights: prefix mean (the released trainer)", () => {
  // c = [2, (2-2)/2 = 0, 0/3 = 0]; 2q - 1 = [tanh(1), 0, 0].
  const a = tokenWeights(new Float32Array([2, -2, 0]));
  close(a.positive, [0.7615942, 0, 0]);
  close(a.negative, [0, 0, 0]);
  // c = [-1, -2]; 2q - 1 = [tanh(-0.5), tanh(-1)] = [-0.4621172, -0.7615942]: only negative weights.
  const b = tokenWeights(new Float32Array([-1, -3]), "prefix-mean");
  close(b.positive, [0, 0]);
  close(b.negative, [0.4621172, 0.7615942]);
});

Deno.test("tokenWeights: per-token (the paper's variant)", () => {
  // c = w = [2, -2, 0]: 2q - 1 = [tanh(1), -tanh(1), 0].
  const a = tokenWeights(new Float32Array([2, -2, 0]), "per-token");
  close(a.positive, [0.7615942, 0, 0]);
  close(a.negative, [0, 0.7615942, 0]);
});

Deno.test("tokenWeights: zero scores (a fresh RM head) give zero weights; empty in, empty out", () => {
  const z = tokenWeights(new Float32Array(3));
  close(z.positive, [0, 0, 0]);
  close(z.negative, [0, 0, 0]);
  const e = tokenWeights(new Float32Array(0));
  assertEquals([e.positive.length, e.negative.length], [0, 0]);
  // Saturated scores stay within [0, 1].
  const s = tokenWeights(new Float32Array([1000, -3000]), "per-token");
  close(s.positive, [1, 0]);
  close(s.negative, [0, 1]);
});

Deno.test("tokenWeights: non-finite scores and unknown modes throw", () => {
  assertThrows(() => tokenWeights(new Float32Array([0, NaN])), RangeError, "token 1");
  assertThrows(() => tokenWeights(new Float32Array([0]), "mean" as never), RangeError, "unknown mode");
});
