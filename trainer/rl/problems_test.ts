import { assertEquals, assertRejects } from "@std/assert";
import { ConfigError } from "./config.ts";
import { buildProblems } from "./problems.ts";

const base = { seed: 1, families: ["addition"], levels: [1], trainProblems: 40, testProblems: 10 };

Deno.test("generated splits are disjoint, of the chosen family, and reproducible", async () => {
  const a = await buildProblems(base);
  const b = await buildProblems(base);
  assertEquals(a, b);
  const train = new Set(a.train.map((p) => p.prompt));
  assertEquals(a.test.some((p) => train.has(p.prompt)), false);
  assertEquals(
    a.train.every((p) => p.source === "gen/addition" && p.level === 1 && p.solution !== undefined),
    true,
  );
});

Deno.test("JSONL problems: seeded shuffle, test first, then at most trainProblems", async () => {
  const dir = await Deno.makeTempDir();
  const rows = Array.from(
    { length: 30 },
    (_, i) => JSON.stringify({ id: i, problem: `p${i}`, answer: String(i) }),
  );
  await Deno.writeTextFile(`${dir}/d.jsonl`, rows.join("\n"));
  const sets = await buildProblems({ ...base, data: `${dir}/d.jsonl`, trainProblems: 12, testProblems: 5 });
  assertEquals([sets.test.length, sets.train.length], [5, 12]);
  const ids = new Set([...sets.test, ...sets.train].map((p) => p.id));
  assertEquals(ids.size, 17);
  await assertRejects(
    () => buildProblems({ ...base, data: `${dir}/d.jsonl`, testProblems: 30 }),
    ConfigError,
    "has 30",
  );
  await assertRejects(
    () => buildProblems({ ...base, data: `${dir}/missing.jsonl` }),
    ConfigError,
    "cannot read",
  );
  await assertRejects(() => buildProblems({ ...base, families: ["calculus"] }), ConfigError, "--families");
  await assertRejects(() => buildProblems({ ...base, levels: [7] }), ConfigError, "--levels");
  await Deno.remove(dir, { recursive: true });
});
