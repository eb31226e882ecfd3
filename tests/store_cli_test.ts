/**
 * Spawns the store's CLIs (runs, rollouts, export-sft) against a prepared database: a PGlite folder always, and
 * PostgreSQL in a throw-away schema when DATABASE_URL is set. Permissions match the deno.json tasks.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { openStore } from "../trainer/store/mod.ts";
import { sampleProblems, sampleRollouts, seedPgliteDir, testBackends } from "../trainer/store/testing.ts";

const CLI = (name: string) => new URL(`../trainer/cli/${name}.ts`, import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

for (const backend of testBackends("store_cli")) {
  Deno.test(`store CLIs on ${backend.name}`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "store_cli_" });
    const dataDir = `${dir}/db`;
    const where = backend.databaseUrl
      ? ["--database-url", backend.databaseUrl, "--schema", backend.schema]
      : ["--data-dir", dataDir];
    const run = async (cli: string, args: string[]): Promise<Result> => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--allow-read=${ROOT},${dir}`,
          `--allow-write=${dir}`,
          "--allow-env=DATABASE_URL,PG*",
          "--allow-net=127.0.0.1,localhost",
          CLI(cli),
          ...where,
          ...args,
        ],
        cwd: ROOT,
        env: { DATABASE_URL: "", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
    };
    const jsonLines = (text: string) => text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    try {
      if (!backend.databaseUrl) await seedPgliteDir(dataDir);
      const store = await openStore({ databaseUrl: backend.databaseUrl, dataDir, schema: backend.schema });
      const problems = sampleProblems("cli", 3);
      await store.upsertProblems(problems);
      const first = await store.createRun({ name: "cli-first", method: "oreal", config: { seed: 1 } });
      const second = await store.createRun({ name: "cli-second", method: "grpo", config: { seed: 2 } });
      const rows = sampleRollouts(problems, 3);
      await store.writeStep({ runId: first, step: 0, rollouts: rows, metrics: { passRate: 1 / 3 } });
      await store.writeStep({ runId: first, step: 1, rollouts: rows, metrics: { passRate: 0.25 } });
      await store.setRunStatus(first, "finished");
      await store.close();

      await t.step("runs prints a table and --json one object per run", async () => {
        const table = await run("runs", []);
        assertEquals(table.code, 0, table.stderr);
        const lines = table.stdout.trimEnd().split("\n");
        assertEquals(lines.length, 3);
        assertEquals(lines[0].split(/\s{2,}/).slice(0, 7), [
          "id",
          "name",
          "method",
          "status",
          "steps",
          "last step",
          "pass rate",
        ]);
        assertEquals(lines[1].trim().split(/\s+/).slice(0, 7), [
          String(first),
          "cli-first",
          "oreal",
          "finished",
          "2",
          "1",
          "25.0%",
        ]);
        assertEquals(lines[2].trim().split(/\s+/).slice(0, 7), [
          String(second),
          "cli-second",
          "grpo",
          "running",
          "0",
          "-",
          "-",
        ]);
        const json = await run("runs", ["--json"]);
        assertEquals(
          jsonLines(json.stdout).map((r) => [r.id, r.name, r.status, r.steps, r.lastPassRate]),
          [[first, "cli-first", "finished", 2, 0.25], [second, "cli-second", "running", 0, null]],
        );
      });

      await t.step("rollouts writes JSONL with --step, --correct/--wrong and --limit", async () => {
        const wrong = jsonLines(
          (await run("rollouts", ["--run", String(first), "--step", "1", "--wrong"])).stdout,
        );
        assertEquals(wrong.length, 6);
        assert(wrong.every((r) => r.step === 1 && r.correct === false && r.runId === first));
        const some = jsonLines(
          (await run("rollouts", ["--run", "cli-first", "--correct", "--limit", "2"])).stdout,
        );
        assertEquals(some.map((r) => [r.step, r.problemId, r.sampleIndex, r.response]), [
          [0, "p0", 0, rows[0].response],
          [0, "p1", 0, rows[3].response],
        ]);
      });

      await t.step("export-sft writes the correct complete rollouts as prompt/response JSONL", async () => {
        const out = `${dir}/sft.jsonl`;
        const result = await run("export_sft", ["--run", "cli-first", "--out", out]);
        assertEquals(result.code, 0, result.stderr);
        assertStringIncludes(result.stderr, "exported 6 examples");
        const examples = jsonLines(await Deno.readTextFile(out));
        assertEquals(examples.length, 6);
        assertEquals(examples[0], {
          prompt: problems[0].prompt,
          response: rows[0].response,
          problemSource: "cli",
          problemId: "p0",
          step: 0,
          sampleIndex: 0,
        });
      });

      await t.step("bad use is a one-line error and a non-zero status", async () => {
        const missing = await run("rollouts", ["--run", "nope"]);
        assertEquals(missing.code, 2);
        assertStringIncludes(missing.stderr, `no run "nope"`);
        const both = await run("rollouts", ["--run", "cli-first", "--correct", "--wrong"]);
        assertEquals(both.code, 2);
        assertStringIncludes(both.stderr, "exclude each other");
        const badStep = await run("rollouts", ["--run", "cli-first", "--step", "x"]);
        assertEquals(badStep.code, 2);
        assertStringIncludes(badStep.stderr, "--step expects a non-negative integer");
        assertEquals((await run("export_sft", [])).code, 2);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
      await backend.cleanup();
    }
  });
}

Deno.test("a CLI given an unreachable database says so and exits 1", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read=${ROOT}`,
      "--allow-env=DATABASE_URL,PG*",
      "--allow-net=127.0.0.1",
      CLI("runs"),
    ],
    cwd: ROOT,
    env: { DATABASE_URL: "postgres://u:secret@127.0.0.1:1/db", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 1);
  assertStringIncludes(stderr, "error: cannot reach PostgreSQL at postgres://u:***@127.0.0.1:1/db");
});
