import { assert, assertEquals, assertRejects } from "@std/assert";
import { sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import { openStore, type OpenStoreOptions, Store, storeSettings } from "./store.ts";
import { connect, type Connection, StoreConnectError, type StoreDatabase } from "./connect.ts";
import { loadMigrations, migrate, type Migration } from "./migrate.ts";
import { schema } from "./schema.ts";
import { StoreInputError } from "./validate.ts";
import {
  dropSchema,
  pgliteTemplate,
  sampleProblems,
  sampleRollouts,
  seedPgliteDir,
  type TestBackend,
  testBackends,
  uniqueSchema,
} from "./testing.ts";
import type { RolloutRow } from "./types.ts";

/** Asserts that `promise` rejects with a StoreInputError naming `field`. */
async function rejectsOnField(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await assertRejects(() => promise, StoreInputError);
  assertEquals((error as StoreInputError).field, field);
}

/** A run with its own problems source, so that suites sharing a database never see each other's rows. */
async function newRun(store: Store, tag: string, problemCount = 2) {
  const name = `${tag}-${crypto.randomUUID()}`;
  const runId = await store.createRun({ name, method: "oreal", config: { lr: 1e-6, tag } });
  const problems = sampleProblems(`src-${name}`, problemCount);
  await store.upsertProblems(problems);
  return { runId, name, problems };
}

/** Rows of a raw `execute` result, whichever driver produced it. */
function rowsOf(result: unknown): Record<string, unknown>[] {
  return (Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows);
}

async function tablesIn(db: StoreDatabase, schemaName: string): Promise<string[]> {
  const result = await db.execute(
    sql`select table_name from information_schema.tables where table_schema = ${schemaName} order by 1`,
  );
  return rowsOf(result).map((r) => String(r.table_name));
}

/**
 * The suite's store and a way to run code against a fresh schema. PGlite: ONE in-memory instance for the whole
 * file (its start-up costs seconds); the store lives in `public` and migration tests move the search path to a
 * fresh schema and back. PostgreSQL: openStore in the backend's schema, a new connection per fresh schema.
 */
async function openSuite(backend: TestBackend, options: OpenStoreOptions) {
  const fresh: string[] = [];
  if (backend.name === "pglite") {
    const connection = await connect({
      dataDir: "memory://",
      schema: "public",
      connectTimeoutSeconds: 5,
      pgliteTemplate: await pgliteTemplate(),
    });
    await migrate(connection.db, "public", await loadMigrations());
    const inFreshSchema = async (fn: (db: StoreDatabase, name: string) => Promise<void>) => {
      const name = uniqueSchema("m");
      await connection.db.execute(sql.raw(`set search_path to ${name}`));
      try {
        await fn(connection.db, name);
      } finally {
        await connection.db.execute(sql.raw("set search_path to public"));
      }
    };
    return { store: new Store(connection, storeSettings(options)), inFreshSchema, dropFresh: async () => {} };
  }
  const url = backend.databaseUrl as string;
  const store = await openStore({ ...options, databaseUrl: url, schema: backend.schema });
  const inFreshSchema = async (fn: (db: StoreDatabase, name: string) => Promise<void>) => {
    const name = `${backend.schema}_${fresh.length}`;
    fresh.push(name);
    const connection: Connection = await connect({
      databaseUrl: url,
      dataDir: "",
      schema: name,
      connectTimeoutSeconds: 5,
    });
    try {
      await fn(connection.db, name);
    } finally {
      await connection.close();
    }
  };
  const dropFresh = async () => {
    for (const name of fresh) await dropSchema(url, name);
  };
  return { store, inFreshSchema, dropFresh };
}

for (const backend of testBackends("store_test")) {
  Deno.test(`store suite on ${backend.name}`, async (t) => {
    const { store, inFreshSchema, dropFresh } = await openSuite(backend, {
      insertBatchRows: 3,
      readPageRows: 4,
      limits: { maxResponseChars: 1_000 },
    });
    try {
      assertEquals(store.driver, backend.name);
      const files = await loadMigrations();

      await t.step("migrations: every file applies once; a second run applies nothing", async () => {
        await inFreshSchema(async (db, name) => {
          assertEquals(await migrate(db, name, files), files.map((f) => f.name));
          assertEquals(await migrate(db, name, files), []);
          assertEquals(await tablesIn(db, name), [
            "_migrations",
            "checkpoints",
            "job_rollouts",
            "policy_versions",
            "problems",
            "rollout_jobs",
            "rollouts",
            "runs",
            "steps",
          ]);
        });
      });

      await t.step(
        "migrations: the Drizzle schema matches the migrated tables column by column",
        async () => {
          await inFreshSchema(async (db, name) => {
            await migrate(db, name, files);
            const result = await db.execute(sql`select table_name, column_name, data_type, is_nullable
            from information_schema.columns where table_schema = ${name}`);
            const actual = rowsOf(result).map((r) =>
              `${r.table_name}.${r.column_name} ${r.data_type} ${
                r.is_nullable === "NO" ? "not null" : "null"
              }`
            ).sort();
            const expected = Object.values(schema).flatMap((table) => {
              const config = getTableConfig(table);
              const primary = new Set(config.primaryKeys.flatMap((k) => k.columns.map((c) => c.name)));
              return config.columns.map((c) => {
                const type = c.getSQLType() === "serial" ? "integer" : c.getSQLType();
                const notNull = c.notNull || c.primary || primary.has(c.name);
                return `${config.name}.${c.name} ${type} ${notNull ? "not null" : "null"}`;
              });
            }).sort();
            assertEquals(actual, expected);
          });
        },
      );

      await t.step("migrations: a failing one leaves nothing of itself and names its file", async () => {
        await inFreshSchema(async (db, name) => {
          const broken: Migration[] = [
            ...files,
            {
              name: "9999_broken.sql",
              sql: "create table extra (x int);\n--> statement-breakpoint\nselect nope",
            },
          ];
          await assertRejects(() => migrate(db, name, broken), Error, "migration 9999_broken.sql failed");
          assertEquals(await tablesIn(db, name), []);
          await migrate(db, name, files);
          await assertRejects(() => migrate(db, name, broken), Error, "9999_broken.sql");
          assert(!(await tablesIn(db, name)).includes("extra"));
        });
      });

      await t.step("migrations: one edited after it was applied is an error", async () => {
        await inFreshSchema(async (db, name) => {
          await migrate(db, name, files);
          const edited = files.map((f, i) => i === 0 ? { ...f, sql: f.sql + "\n-- edited" } : f);
          await assertRejects(() => migrate(db, name, edited), Error, "was edited after it was applied");
        });
      });

      await t.step("insert and read back a step, its metrics, the run and a checkpoint", async () => {
        const { runId, name, problems } = await newRun(store, "roundtrip");
        assertEquals(await store.latestStep(runId), null);
        const rows = sampleRollouts(problems, 3);
        const metrics = { passRate: 1 / 3, losses: { positive: 0.5, kl: 0.01 }, lr: 1e-6, note: "x" };
        assertEquals(await store.writeStep({ runId, step: 0, rollouts: rows, metrics }), {
          stepInserted: true,
          rolloutsInserted: 6,
        });
        const back = await store.rolloutsOfStep(runId, 0);
        assertEquals(back, rows.map((r) => ({ ...r, runId, step: 0 })));
        assertEquals(await store.latestStep(runId), 0);
        await store.writeStep({ runId, step: 2, rollouts: [], metrics: { passRate: 0.5 } });
        const series = await store.metricsSeries(runId);
        assertEquals(series.map((p) => [p.step, p.metrics]), [[0, metrics], [2, { passRate: 0.5 }]]);
        assert(series[0].createdAt instanceof Date);

        const run = await store.findRun(name);
        assertEquals(run?.id, runId);
        assertEquals(run?.config, { lr: 1e-6, tag: "roundtrip" });
        assertEquals((await store.findRun(runId))?.name, name);
        assertEquals((await store.findRun(String(runId)))?.name, name);
        assertEquals(await store.findRun("no-such-run"), null);
        await store.setRunStatus(runId, "finished");
        const summary = (await store.listRuns()).find((r) => r.id === runId);
        assertEquals(
          summary && [summary.name, summary.status, summary.steps, summary.lastStep, summary.lastPassRate],
          [name, "finished", 2, 2, 0.5],
        );

        const sha = "ab".repeat(32);
        await store.recordCheckpoint({
          runId,
          step: 2,
          path: "runs/a/step2",
          sha256: sha,
          evaluation: { acc: 0.1 },
        });
        await store.recordCheckpoint({
          runId,
          step: 2,
          path: "runs/a/step2",
          sha256: sha,
          evaluation: { acc: 0.2 },
        });
        const saved = await store.checkpointsOf(runId);
        assertEquals(saved.map((c) => [c.step, c.path, c.sha256, c.evaluation]), [[2, "runs/a/step2", sha, {
          acc: 0.2,
        }]]);
      });

      await t.step("a retried step neither duplicates nor loses nor overwrites a rollout", async () => {
        const { runId, problems } = await newRun(store, "retry", 3);
        const rows = sampleRollouts(problems, 2);
        const first = rows.slice(0, 4);
        await store.writeStep({ runId, step: 5, rollouts: first, metrics: { passRate: 0.5 } });
        const again = await store.writeStep({ runId, step: 5, rollouts: first, metrics: { passRate: 0.9 } });
        assertEquals(again, { stepInserted: false, rolloutsInserted: 0 });
        const changed = rows.map((r) => ({ ...r, reward: 42 }));
        const resumed = await store.writeStep({ runId, step: 5, rollouts: changed, metrics: {} });
        assertEquals(resumed, { stepInserted: false, rolloutsInserted: 2 });
        const back = await store.rolloutsOfStep(runId, 5);
        assertEquals(back.length, 6);
        assertEquals(back.map((r) => r.reward), [...first.map((r) => r.reward), 42, 42]);
        assertEquals((await store.metricsSeries(runId)).map((p) => p.metrics), [{ passRate: 0.5 }]);
      });

      await t.step("a transaction that fails midway leaves nothing of the step", async () => {
        const { runId, problems } = await newRun(store, "abort", 3);
        await store.writeStep({ runId, step: 0, rollouts: sampleRollouts(problems, 1), metrics: {} });
        // 7 rows at 3 per INSERT: the first two batches go in, the third names an unknown problem.
        const rows: RolloutRow[] = [
          ...sampleRollouts(problems, 2),
          { ...sampleRollouts(problems, 1)[0], problemId: "missing" },
        ];
        await rejectsOnField(
          store.writeStep({ runId, step: 1, rollouts: rows, metrics: {} }),
          "rollouts.problemId",
        );
        assertEquals(await store.latestStep(runId), 0);
        assertEquals(await store.rolloutsOfStep(runId, 1), []);
        assertEquals((await store.metricsSeries(runId)).map((p) => p.step), [0]);
        const ok = await store.writeStep({ runId, step: 1, rollouts: rows.slice(0, 6), metrics: {} });
        assertEquals(ok, { stepInserted: true, rolloutsInserted: 6 });
      });

      await t.step("two runs do not see each other's rows", async () => {
        const a = await newRun(store, "iso-a");
        const b = await newRun(store, "iso-b");
        await store.upsertProblems(a.problems);
        const rowsA = sampleRollouts(a.problems, 2);
        const shared = sampleRollouts(a.problems, 1).map((r) => ({ ...r, response: "run b" }));
        await store.writeStep({ runId: a.runId, step: 3, rollouts: rowsA, metrics: { passRate: 0.5 } });
        await store.writeStep({ runId: b.runId, step: 1, rollouts: shared, metrics: { passRate: 1 } });
        assertEquals(await store.latestStep(a.runId), 3);
        assertEquals(await store.latestStep(b.runId), 1);
        assertEquals((await store.rolloutsOfStep(a.runId, 3)).length, 4);
        assertEquals(await store.rolloutsOfStep(a.runId, 1), []);
        assertEquals((await store.rolloutsOfStep(b.runId, 1)).map((r) => [r.runId, r.response]), [
          [b.runId, "run b"],
          [b.runId, "run b"],
        ]);
        const examplesB = [];
        for await (const e of store.sftExamples(b.runId)) examplesB.push(e.response);
        assertEquals(examplesB, ["run b", "run b"]);
        assertEquals((await store.metricsSeries(b.runId)).map((p) => p.metrics), [{ passRate: 1 }]);
      });

      await t.step("filters, limits and paging of rollouts, and the SFT examples", async () => {
        const { runId, problems } = await newRun(store, "filter", 4);
        const rows = sampleRollouts(problems, 3);
        await store.writeStep({ runId, step: 0, rollouts: rows, metrics: {} });
        await store.writeStep({ runId, step: 1, rollouts: rows, metrics: {} });
        const all = [];
        for await (const r of store.iterateRollouts(runId)) all.push(r);
        assertEquals(all.length, 24);
        assertEquals(
          all.map((r) => [r.step, r.problemId, r.sampleIndex]),
          [0, 1].flatMap((s) => problems.flatMap((p) => [0, 1, 2].map((k) => [s, p.id, k]))),
        );
        const limited = [];
        for await (const r of store.iterateRollouts(runId, { limit: 6, step: 1 })) limited.push(r);
        assertEquals(limited, all.slice(12, 18));
        const wrong = await store.rolloutsOfStep(runId, 0, { correct: false });
        assertEquals(wrong.length, 8);
        assert(wrong.every((r) => !r.correct));
        const keptRight = await store.rolloutsOfStep(runId, 0, { correct: true, kept: true });
        assertEquals(keptRight.map((r) => r.problemId), problems.map((p) => p.id));
        const examples = [];
        for await (const e of store.sftExamples(runId)) examples.push(e);
        assertEquals(examples.length, 8);
        assertEquals(examples[0], {
          prompt: problems[0].prompt,
          response: rows[0].response,
          problemSource: problems[0].source,
          problemId: "p0",
          step: 0,
          sampleIndex: 0,
        });
      });

      await t.step("bad input is an error naming the field, and nothing is written", async () => {
        const { runId, name, problems } = await newRun(store, "checks");
        const good = sampleRollouts(problems, 2);
        await store.writeStep({ runId, step: 4, rollouts: good, metrics: {} });
        const bad = (patch: Partial<RolloutRow>) => good.map((r, i) => (i === 1 ? { ...r, ...patch } : r));
        const write = (rollouts: RolloutRow[], step = 5, metrics = {}) =>
          store.writeStep({ runId, step, rollouts, metrics });
        await rejectsOnField(write(bad({ reward: NaN })), "rollouts[1].reward");
        await rejectsOnField(write(bad({ reward: Infinity })), "rollouts[1].reward");
        await rejectsOnField(write(bad({ advantage: -Infinity })), "rollouts[1].advantage");
        await rejectsOnField(write(bad({ response: "x".repeat(1_001) })), "rollouts[1].response");
        await rejectsOnField(write(bad({ response: "a\u0000b" })), "rollouts[1].response");
        await rejectsOnField(write(bad({ sampleIndex: 0 })), "rollouts[1]");
        await rejectsOnField(write(bad({ tokenCount: -1 })), "rollouts[1].tokenCount");
        await rejectsOnField(write(bad({ finishReason: "eos" as "stop" })), "rollouts[1].finishReason");
        await rejectsOnField(write(good, 3), "step");
        await rejectsOnField(write(good, 5, { losses: { kl: NaN } }), "metrics.losses.kl");
        await rejectsOnField(
          store.writeStep({ runId: 999_999, step: 0, rollouts: [], metrics: {} }),
          "runId",
        );
        await rejectsOnField(store.createRun({ name, method: "oreal", config: {} }), "name");
        await rejectsOnField(store.setRunStatus(runId, "paused" as "running"), "status");
        await rejectsOnField(
          store.recordCheckpoint({ runId, step: 4, path: "p", sha256: "xyz", evaluation: {} }),
          "sha256",
        );
        await rejectsOnField(
          store.recordCheckpoint({
            runId: 999_999,
            step: 4,
            path: "p",
            sha256: "0".repeat(64),
            evaluation: {},
          }),
          "runId",
        );
        await rejectsOnField(
          store.upsertProblems([{ ...problems[0], prompt: "y".repeat(70_000) }]),
          "problems[0].prompt",
        );
        assertEquals(await store.latestStep(runId), 4);
        assertEquals((await store.rolloutsOfStep(runId, 4)).length, 4);
        assertEquals(await store.checkpointsOf(runId), []);
      });
    } finally {
      await store.close();
      await dropFresh();
      await backend.cleanup();
    }
  });
}

Deno.test("an unreachable PostgreSQL server is a quick, clear error that hides the password", async () => {
  const started = performance.now();
  const error = await assertRejects(
    () => openStore({ databaseUrl: "postgres://u:secret@127.0.0.1:1/none", connectTimeoutSeconds: 2 }),
    StoreConnectError,
  );
  assert(
    error.message.includes("cannot reach PostgreSQL at postgres://u:***@127.0.0.1:1/none"),
    error.message,
  );
  assert(!error.message.includes("secret"));
  assert(performance.now() - started < 5_000);
  await assertRejects(() => openStore({ databaseUrl: "mysql://x@y/z" }), StoreConnectError, "postgres://");
});

Deno.test("PGlite from the test template: a fresh folder becomes a store; an existing one keeps its data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "store_template_" });
  try {
    await seedPgliteDir(`${dir}/db`);
    const store = await openStore({ dataDir: `${dir}/db` });
    const id = await store.createRun({ name: "from-template", method: "oreal", config: {} });
    await store.close();
    // The template applies to new databases only: this folder has one, so its run is still there.
    const again = await connect({
      dataDir: `${dir}/db`,
      schema: "public",
      connectTimeoutSeconds: 5,
      pgliteTemplate: await pgliteTemplate(),
    });
    await again.close();
    const reopened = await openStore({ dataDir: `${dir}/db` });
    assertEquals((await reopened.findRun("from-template"))?.id, id);
    await reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openStore rejects bad settings before connecting", async () => {
  await assertRejects(
    () => openStore({ dataDir: "memory://", insertBatchRows: 0 }),
    StoreInputError,
    "insertBatch",
  );
  await assertRejects(() => openStore({ dataDir: "memory://", schema: "Bad-Name" }), Error, "schema");
});

Deno.test("a server that accepts and never answers (or hangs up) is a clear error after the timeout", async () => {
  for (const hangUp of [false, true]) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted: Deno.Conn[] = [];
    const serving = (async () => {
      for await (const conn of listener) hangUp ? conn.close() : accepted.push(conn);
    })();
    const url = `postgres://u:p@127.0.0.1:${listener.addr.port}/db`;
    const started = performance.now();
    await assertRejects(
      () => openStore({ databaseUrl: url, connectTimeoutSeconds: 1 }),
      StoreConnectError,
      "1 s",
    );
    assert(performance.now() - started < 3_000);
    listener.close();
    await serving.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});
