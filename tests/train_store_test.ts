/**
 * One store per project: `train` started in a fresh project folder (no `--out`, `--name` or `--data-dir`) writes
 * its run to the project's store (`.oreal/db`, or DATABASE_URL when set), where `runs`, `rollouts` and
 * `export-sft` find it; the run folder holds files only; a second run with the same default name takes a free one.
 * Every CLI runs with the permissions of its deno.json task, in the project folder.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { openStore } from "../trainer/store/mod.ts";
import { seedPgliteDir } from "../trainer/store/testing.ts";
import { spawnTask } from "./tasks.ts";

const cli = (name: string) => new URL(`../trainer/cli/${name}.ts`, import.meta.url).pathname;
const DATABASE_URL = Deno.env.get("DATABASE_URL") ?? "";

async function runTask(task: string, script: string, args: string[], cwd: string) {
  const out = await spawnTask(task, cli(script), args, { cwd, env: { DATABASE_URL } }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const text = stdout + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, `${task}: ${text}`);
  return { stdout, text };
}

Deno.test("train then runs, rollouts and export-sft share the project's store; default names stay unique", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_store_" });
  // A seed of its own, so that a shared PostgreSQL database (CI) has no run of this default name yet.
  const seed = 100_000 + Math.floor(Math.random() * 900_000);
  const args = [
    ...["--backend", "cpu", "--hidden-size", "16", "--layers", "1", "--seed", String(seed)],
    ...["--families", "addition", "--levels", "1", "--train-problems", "20", "--test-problems", "2"],
    ...["--sft-steps", "2", "--steps", "1", "--prompts-per-step", "2", "--samples-per-prompt", "2"],
    ...["--max-new-tokens", "8", "--eval-every", "0", "--pass-k", "1"],
  ];
  // The project's PGlite store starts from the test template (initdb itself is not what this test is about).
  if (!DATABASE_URL) await seedPgliteDir(`${dir}/.oreal/db`);
  const names: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { text } = await runTask("train", "train", args, dir);
    names.push(/^run (\S+):/m.exec(text)?.[1] ?? "");
  }
  const base = `tiny-oreal-s${seed}`;
  assertEquals(names, [base, `${base}-2`]);
  for (const name of names) {
    await Deno.stat(`${dir}/runs/${name}/summary.json`);
    // --out places files only: the rows are in the project's store.
    await Deno.stat(`${dir}/runs/${name}/db`).then(
      () => assert(false, `${name} has its own store`),
      () => {},
    );
  }
  if (!DATABASE_URL) await Deno.stat(`${dir}/.oreal/db`);

  const listed = (await runTask("runs", "runs", ["--json"], dir)).stdout.trim().split("\n").map((l) =>
    JSON.parse(l) as { name: string; status: string; lastStep: number }
  );
  for (const name of names) {
    const run = listed.find((r) => r.name === name);
    assertEquals([run?.status, run?.lastStep], ["finished", 1], `runs lists: ${JSON.stringify(listed)}`);
  }
  const rollouts = (await runTask("rollouts", "rollouts", ["--run", base], dir)).stdout.trim().split("\n");
  assertEquals(rollouts.length, 4);
  const sft = await runTask("export-sft", "export_sft", ["--run", base, "--out", "sft.jsonl"], dir);
  assertMatch(sft.text, new RegExp(`exported \\d+ examples of run \\d+ \\(${base}\\)`));
  await Deno.stat(`${dir}/sft.jsonl`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a PGlite store that one process has open is refused to another with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "store_lock_" });
  await seedPgliteDir(`${dir}/.oreal/db`);
  const store = await openStore({ dataDir: `${dir}/.oreal/db` });
  try {
    const out = await spawnTask("runs", cli("runs"), [], { cwd: dir, env: { DATABASE_URL: "" } }).output();
    assertEquals(out.code, 1);
    assertStringIncludes(new TextDecoder().decode(out.stderr), "is open in another process");
  } finally {
    await store.close();
  }
  // Closed, it opens again.
  await (await openStore({ dataDir: `${dir}/.oreal/db` })).close();
  await Deno.remove(dir, { recursive: true });
});
