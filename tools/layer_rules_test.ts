import { assertEquals } from "@std/assert";
import { findCycles, type ImportGraph, layerViolations, packageOf } from "./layer_rules.ts";

const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

Deno.test("findCycles finds each strongly connected component and self-imports, not chains", () => {
  const cycles = findCycles(graph({
    "a.ts": ["b.ts"],
    "b.ts": ["c.ts"],
    "c.ts": ["a.ts", "d.ts"],
    "d.ts": ["e.ts"],
    "e.ts": [],
    "f.ts": ["f.ts"],
  }));
  assertEquals(cycles, [["a.ts", "b.ts", "c.ts"], ["f.ts"]]);
  assertEquals(findCycles(graph({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": [] })), []);
});

Deno.test("findCycles handles a long chain without recursion", () => {
  const edges: Record<string, string[]> = {};
  for (let i = 0; i < 50_000; i++) edges[`m${i}.ts`] = i + 1 < 50_000 ? [`m${i + 1}.ts`] : ["m0.ts"];
  assertEquals(findCycles(graph(edges))[0].length, 50_000);
});

Deno.test("packageOf picks the innermost package folder", () => {
  const packages = ["trainer/gpu/cpu", "trainer/gpu", "core/verify"];
  assertEquals(packageOf("trainer/gpu/cpu/simd.ts", packages), "trainer/gpu/cpu");
  assertEquals(packageOf("trainer/gpu/auto.ts", packages), "trainer/gpu");
  assertEquals(packageOf("trainer/rl/train.ts", packages), undefined);
  assertEquals(packageOf("core/verifyx/a.ts", packages), undefined);
});

Deno.test("layerViolations enforces mod.ts entries, testing.ts for tests only, and the layers", () => {
  const packages = ["core/verify", "trainer/store"];
  const messages = layerViolations(
    graph({
      "core/data/jsonl.ts": ["core/verify/form.ts", "core/verify/mod.ts"],
      "core/data/jsonl_test.ts": ["tests/shared.ts", "core/verify/testing.ts"],
      "core/data/problem.ts": ["trainer/store/mod.ts"],
      "core/verify/mod.ts": ["core/verify/form.ts"],
      "trainer/rl/train.ts": ["trainer/store/store.ts", "trainer/store/testing.ts", "core/verify/mod.ts"],
      "edge/app.ts": ["trainer/store/mod.ts"],
      "trainer/cli/runs.ts": ["edge/app.ts"],
      "tests/e2e_test.ts": ["trainer/store/testing.ts", "edge/app.ts"],
      "bench/store_bench.ts": ["trainer/store/testing.ts"],
    }),
    packages,
  ).map((v) => `${v.rule}: ${v.message}`);
  assertEquals(messages, [
    "mod.ts: core/data/jsonl.ts imports core/verify/form.ts, bypassing core/verify/mod.ts",
    "layer: core/data/problem.ts imports trainer/store/mod.ts: core must not import trainer",
    "mod.ts: trainer/rl/train.ts imports trainer/store/store.ts, bypassing trainer/store/mod.ts",
    "mod.ts: trainer/rl/train.ts imports trainer/store/testing.ts, bypassing trainer/store/mod.ts",
    "layer: edge/app.ts imports trainer/store/mod.ts: edge must not import trainer",
    "layer: trainer/cli/runs.ts imports edge/app.ts: trainer must not import edge",
  ]);
});
