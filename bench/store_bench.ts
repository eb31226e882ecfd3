/**
 * Rollout store throughput and start-up, PGlite vs PostgreSQL (`DATABASE_URL`).
 *
 *     deno bench --allow-read --allow-write --allow-env --allow-net=127.0.0.1,localhost --allow-run bench/store_bench.ts
 *
 * - `writeStep`: one training step of 1,024 rollouts (64 problems x 16 samples) of 2,000 characters each, in one
 *   transaction; rollouts/s = 1,024 x iter/s. PGlite uses a data folder (the default set-up), PostgreSQL a
 *   throw-away schema.
 * - start-up: `openStore` + `close` of an existing database (connect, migration check). The first start of a new
 *   PGlite folder (initdb + migrations) takes seconds, too long to repeat under `deno bench`: it is measured once
 *   while the bench loads and printed.
 * Everything the bench creates (temp folder, schema) is removed when it ends.
 */
import { openStore, type Store } from "../trainer/store/mod.ts";
import { sampleProblems, sampleRollouts, uniqueSchema } from "../trainer/store/testing.ts";

const PROBLEMS = 64;
const SAMPLES = 16;
const CHARS = 2_000;
const url = Deno.env.get("DATABASE_URL") || undefined;
const dir = await Deno.makeTempDir({ prefix: "store_bench_" });
const dataDir = `${dir}/db`;
const schema = uniqueSchema("store_bench");
const problems = sampleProblems("bench", PROBLEMS);
const rollouts = sampleRollouts(problems, SAMPLES, CHARS);

/** Opens a store, creates a run and its problems; writeStep benches then add one step per iteration. */
async function prepare(options: { databaseUrl?: string; dataDir?: string; schema?: string }) {
  const store = await openStore(options);
  await store.upsertProblems(problems);
  const runId = await store.createRun({ name: `bench-${crypto.randomUUID()}`, method: "bench", config: {} });
  return { store, runId, step: 0 };
}

const started = performance.now();
const first = await openStore({ dataDir });
console.log(
  `PGlite first start of a new folder (initdb + migrations): ${(performance.now() - started).toFixed(0)} ms`,
);
await first.close();

let pglite: { store: Store; runId: number; step: number } | undefined;
let postgres: { store: Store; runId: number; step: number } | undefined;

Deno.bench({
  name: "PGlite folder",
  group: "start-up (open existing + migration check + close)",
  async fn() {
    await (await openStore({ dataDir })).close();
  },
});

Deno.bench({
  name: "PostgreSQL",
  group: "start-up (open existing + migration check + close)",
  ignore: url === undefined,
  async fn() {
    await (await openStore({ databaseUrl: url, schema })).close();
  },
});

Deno.bench({
  name: "PGlite folder",
  group: `writeStep of ${PROBLEMS * SAMPLES} rollouts x ${CHARS} chars`,
  baseline: true,
  async fn(b) {
    pglite ??= await prepare({ dataDir });
    b.start();
    await pglite.store.writeStep({
      runId: pglite.runId,
      step: pglite.step++,
      rollouts,
      metrics: { passRate: 0.5 },
    });
    b.end();
  },
});

Deno.bench({
  name: "PostgreSQL",
  group: `writeStep of ${PROBLEMS * SAMPLES} rollouts x ${CHARS} chars`,
  ignore: url === undefined,
  async fn(b) {
    postgres ??= await prepare({ databaseUrl: url, schema });
    b.start();
    await postgres.store.writeStep({
      runId: postgres.runId,
      step: postgres.step++,
      rollouts,
      metrics: { passRate: 0.5 },
    });
    b.end();
  },
});

// deno bench gives no hook after the last bench, only the synchronous `unload` event: close nothing (the process
// ends), remove the folder, and drop the PostgreSQL schema from a short synchronous child process.
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
  if (url === undefined) return;
  const code = `import { dropSchema } from "./trainer/store/testing.ts";
    await dropSchema(Deno.env.get("BENCH_URL"), Deno.env.get("BENCH_SCHEMA"));`;
  const dropped = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: new URL("..", import.meta.url).pathname,
    env: { BENCH_URL: url, BENCH_SCHEMA: schema },
  }).outputSync();
  if (!dropped.success) {
    console.error(`could not drop schema ${schema}: ${new TextDecoder().decode(dropped.stderr)}`);
  }
});
