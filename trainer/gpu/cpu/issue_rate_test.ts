import { assert, assertAlmostEquals } from "@std/assert";
import { fmaIssueRate, issueChains } from "./issue_rate.ts";

Deno.test("issue-rate chains: every chain runs every step (their sum is stored), and the rate is positive", () => {
  const chains = issueChains();
  if (!chains) return console.warn("issue_rate_test: skipped, this runtime has no relaxed SIMD");
  const reps = 1000;
  chains.run(reps);
  // Each of 12 chains adds a * b = 0.999 * 0.001 (in f32) 8 * reps times, in every lane.
  const expected = 12 * 8 * reps * Math.fround(Math.fround(0.999) * Math.fround(0.001));
  for (const lane of new Float32Array(chains.memory.buffer, 0, 4)) {
    assertAlmostEquals(lane, expected, expected * 1e-3);
  }
  const rate = fmaIssueRate(1, 20_000);
  assert(Number.isFinite(rate) && rate > 0, `rate ${rate}`);
});
