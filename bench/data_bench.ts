/**
 * Problem generator throughput: `deno bench bench/data_bench.ts`. Each iteration generates 10,000 problems, so
 * problems/s = 10,000 / (time per iteration).
 */
import { FAMILIES, generateProblems } from "../core/data/mod.ts";

const COUNT = 10_000;

Deno.bench("generateProblems train, all families and levels (10k problems)", { group: "generate" }, () => {
  generateProblems({ seed: 1, count: COUNT, split: "train" });
});

Deno.bench(
  "generateProblems test split, all families and levels (10k problems)",
  { group: "generate" },
  () => {
    generateProblems({ seed: 1, count: COUNT, split: "test" });
  },
);

Deno.bench("generateProblems train, level 1 only (10k problems)", { group: "generate" }, () => {
  generateProblems({ seed: 1, count: COUNT, split: "train", levels: [1] });
});

for (const family of FAMILIES) {
  Deno.bench(`generateProblems train, ${family} (10k problems)`, { group: "family" }, () => {
    generateProblems({ seed: 1, count: COUNT, split: "train", families: [family] });
  });
}
