import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { createRng } from "../random/mod.ts";
import { selectPairs, updateSamples } from "./select.ts";

const T = true;
const F = false;
// mixed (p = 1/2), all correct (p = 1), all wrong (p = 0), mixed with K = 2.
const groups = [{ correct: [T, F, T, F] }, { correct: [T, T] }, { correct: [F, F, F] }, { correct: [F, T] }];

Deno.test("selectPairs: drops p = 0 and p = 1, keeps one correct and one wrong per mixed group", () => {
  const { kept, passRates } = selectPairs(groups, createRng(1));
  assertEquals(passRates, [0.5, 1, 0, 0.5]);
  assertEquals(kept.map((k) => k.group), [0, 3]);
  assertEquals([kept[1].correct, kept[1].wrong], [1, 0]); // K = 2: the only choice
  assertEquals(groups[0].correct[kept[0].correct], true);
  assertEquals(groups[0].correct[kept[0].wrong], false);
});

Deno.test("selectPairs: same seed, same choice; choices are uniform", () => {
  assertEquals(selectPairs(groups, createRng(9)), selectPairs(groups, createRng(9)));
  const rng = createRng(5);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 2000; i++) {
    const { kept } = selectPairs([groups[0]], rng);
    counts[kept[0].correct]++;
    counts[kept[0].wrong]++;
  }
  // each of the two correct (0, 2) and two wrong (1, 3) responses is chosen about 1000 times
  for (const c of counts) assertAlmostEquals(c, 1000, 120);
});

Deno.test("selectPairs: empty input and empty groups", () => {
  assertEquals(selectPairs([], createRng(1)), { kept: [], passRates: [] });
  assertThrows(() => selectPairs([{ correct: [] }], createRng(1)), RangeError, "group 0");
});

Deno.test("updateSamples: oreal takes the pairs with RLOO advantages over all K", () => {
  const { samples, passRates } = updateSamples("oreal", groups, createRng(1));
  assertEquals(passRates, [0.5, 1, 0, 0.5]);
  const pairs = selectPairs(groups, createRng(1)).kept;
  // group 0: K = 4, p = 1/2: A+ = 2*4*0.5/3 = 4/3, A- = -4/3; group 3: K = 2: A+ = 2, A- = -2.
  assertEquals(samples.map((s) => [s.group, s.index, s.correct]), [
    [0, pairs[0].correct, true],
    [0, pairs[0].wrong, false],
    [3, 1, true],
    [3, 0, false],
  ]);
  [4 / 3, -4 / 3, 2, -2].forEach((a, i) => assertAlmostEquals(samples[i].advantage, a, 1e-12));
  // The GRPO estimator: group 0 -> ±sqrt(3)/2.
  const g = updateSamples("oreal-no-rm", groups, createRng(1), { advantage: "grpo" }).samples;
  assertAlmostEquals(g[0].advantage, 0.8660254, 1e-7);
  assertAlmostEquals(g[1].advantage, -0.8660254, 1e-7);
});

Deno.test("updateSamples: grpo, reinforce and rft choose per docs/OREAL.md's table", () => {
  const grpo = updateSamples("grpo", groups, createRng(1)).samples;
  assertEquals(grpo.map((s) => [s.group, s.index]), [[0, 0], [0, 1], [0, 2], [0, 3], [3, 0], [3, 1]]);
  // group 0: ±sqrt(3)/2; group 3 (K = 2): ±1/sqrt(2).
  [0.8660254, -0.8660254, 0.8660254, -0.8660254, -Math.SQRT1_2, Math.SQRT1_2]
    .forEach((a, i) => assertAlmostEquals(grpo[i].advantage, a, 1e-7));
  const reinforce = updateSamples("reinforce", groups, createRng(1)).samples;
  assertEquals(reinforce.length, 11); // every response of every group
  assertEquals(reinforce.map((s) => s.advantage), [1, -1, 1, -1, 1, 1, -1, -1, -1, -1, 1]);
  const rft = updateSamples("rft", groups, createRng(1)).samples;
  assertEquals(rft.map((s) => [s.group, s.index, s.correct, s.advantage]), [
    [0, 0, true, 1],
    [0, 2, true, 1],
    [1, 0, true, 1],
    [1, 1, true, 1],
    [3, 1, true, 1],
  ]);
});

Deno.test("updateSamples: bad input", () => {
  assertThrows(() => updateSamples("ppo" as never, groups, createRng(1)), RangeError, "unknown method");
  assertThrows(
    () => updateSamples("oreal", groups, createRng(1), { advantage: "x" as never }),
    RangeError,
    "estimator",
  );
  assertThrows(() => updateSamples("reinforce", [{ correct: [] }], createRng(1)), RangeError, "group 0");
  assertEquals(updateSamples("grpo", [], createRng(1)), { samples: [], passRates: [] });
});
