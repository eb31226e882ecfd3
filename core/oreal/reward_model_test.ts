import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { rewardModelLoss } from "./reward_model.ts";

Deno.test("rewardModelLoss: BCE on the sigmoid of the mean score", () => {
  // m = (1 + 3)/2 = 2. Correct: -log sigmoid(2) = log(1 + e^-2) = 0.1269280; dw_t = (sigmoid(2) - 1)/2.
  const c = rewardModelLoss(new Float32Array([1, 3]), true);
  assertAlmostEquals(c.loss, 0.126928, 1e-6);
  assertAlmostEquals(c.dScores[0], (0.8807971 - 1) / 2, 1e-6);
  assertAlmostEquals(c.dScores[1], (0.8807971 - 1) / 2, 1e-6);
  // Wrong: -log(1 - sigmoid(2)) = log(1 + e^2) = 2.1269280; dw_t = 0.8807971 / 2 = 0.4403985.
  const w = rewardModelLoss(new Float32Array([1, 3]), false);
  assertAlmostEquals(w.loss, 2.126928, 1e-6);
  assertAlmostEquals(w.dScores[0], 0.4403985, 1e-6);
  // Zero scores (fresh head): loss log 2 = 0.6931472 either way, gradient ∓0.5 / T.
  const z = rewardModelLoss(new Float32Array(4), true);
  assertAlmostEquals(z.loss, Math.LN2, 1e-9);
  assertAlmostEquals(z.dScores[3], -0.125, 1e-9);
});

Deno.test("rewardModelLoss: gradient matches finite differences; large scores stay finite", () => {
  const scores = new Float32Array([0.3, -1.2, 2.5, 0.7]);
  for (const correct of [true, false]) {
    const { dScores } = rewardModelLoss(scores, correct);
    for (let t = 0; t < scores.length; t++) {
      const plus = scores.slice();
      const minus = scores.slice();
      plus[t] += 1e-2;
      minus[t] -= 1e-2;
      const fd = (rewardModelLoss(plus, correct).loss - rewardModelLoss(minus, correct).loss) /
        (plus[t] - minus[t]);
      assertAlmostEquals(dScores[t], fd, 1e-5, `token ${t}`);
    }
  }
  // m = 100, wrong: softplus(100) = 100 (no overflow); correct: ~e^-100.
  assertAlmostEquals(rewardModelLoss(new Float32Array([100]), false).loss, 100, 1e-9);
  assertAlmostEquals(rewardModelLoss(new Float32Array([100]), true).loss, 0, 1e-12);
  assertAlmostEquals(rewardModelLoss(new Float32Array([-800]), true).loss, 800, 1e-9);
});

Deno.test("rewardModelLoss: zero-length response and NaN", () => {
  const e = rewardModelLoss(new Float32Array(0), true);
  assertEquals([e.loss, e.dScores.length], [0, 0]);
  assertThrows(() => rewardModelLoss(new Float32Array([1, 2, NaN]), false), RangeError, "token 2");
});
