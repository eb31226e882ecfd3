import { assert, assertEquals, assertRejects } from "@std/assert";
import { StoreConnectError } from "./connect.ts";
import { openStore, type OpenStoreOptions } from "./store.ts";
import { sampleProblems, sampleRollouts, seedPgliteDir, testBackends } from "./testing.ts";
import { createsDatabase, openStoreThread } from "./thread.ts";
import { StoreInputError } from "./validate.ts";

/** The options each backend's thread opens: a seeded PGlite folder, or PostgreSQL in the suite's schema. */
async function optionsFor(backend: ReturnType<typeof testBackends>[number]): Promise<OpenStoreOptions> {
  if (backend.name === "postgres") return { databaseUrl: backend.databaseUrl, schema: backend.schema };
  const dir = await Deno.makeTempDir({ prefix: "oreal-thread-" });
  await seedPgliteDir(`${dir}/db`);
  return { dataDir: `${dir}/db` };
}

for (const backend of testBackends("thread")) {
  Deno.test(`store thread (${backend.name}): what it writes is what a Store reads back`, async () => {
    const options = await optionsFor(backend);
    const name = `thread-${crypto.randomUUID()}`;
    const problems = sampleProblems(`src-${name}`, 3);
    const thread = openStoreThread(options);
    await thread.ready;
    assertEquals(thread.driver, backend.name);
    const runId = await thread.createRun({ name, method: "oreal", config: { lr: 0.5 } });
    assertEquals(await thread.upsertProblems(problems), 3);
    const written = await thread.writeStep({
      runId,
      step: 1,
      rollouts: sampleRollouts(problems, 2),
      metrics: { passRate: 0.5, kl: 0.25 },
    });
    assertEquals(written, { stepInserted: true, rolloutsInserted: 6 });
    await thread.recordCheckpoint({
      runId,
      step: 1,
      path: "ckpt/step-1",
      sha256: "ab".repeat(32),
      evaluation: { pass1: 0.5 },
    });
    await thread.setRunStatus(runId, "finished");
    assertEquals((await thread.findRun(name))?.status, "finished");
    await thread.close();

    const store = await openStore(options);
    try {
      const run = await store.findRun(runId);
      assertEquals(run?.name, name);
      assertEquals(run?.config, { lr: 0.5 });
      const rollouts = await store.rolloutsOfStep(runId, 1);
      assertEquals(rollouts.length, 6);
      assertEquals((await store.checkpointsOf(runId)).map((c) => c.path), ["ckpt/step-1"]);
      assertEquals((await store.metricsSeries(runId)).map((m) => m.metrics.passRate), [0.5]);
    } finally {
      await store.close();
      await backend.cleanup();
    }
  });

  Deno.test(`store thread (${backend.name}): calls run in the order sent; errors keep their type`, async () => {
    const options = await optionsFor(backend);
    const name = `order-${crypto.randomUUID()}`;
    const problems = sampleProblems(`src-${name}`, 1);
    const thread = openStoreThread(options);
    try {
      const runId = await thread.createRun({ name, method: "oreal", config: {} });
      await thread.upsertProblems(problems);
      const step = (n: number) => ({ runId, step: n, rollouts: sampleRollouts(problems, 1), metrics: {} });
      // Sent together, unawaited: step 2 is stored first, so step 1 then falls below the last stored step.
      const second = thread.writeStep(step(2));
      const first = thread.writeStep(step(1));
      assertEquals((await second).stepInserted, true);
      const below = await assertRejects(() => first, StoreInputError);
      assertEquals((below as StoreInputError).field, "step");
      const taken = await assertRejects(
        () => thread.createRun({ name, method: "oreal", config: {} }),
        StoreInputError,
      );
      assertEquals((taken as StoreInputError).field, "name");
      assert(taken.message.startsWith("name: a run named"), taken.message);
    } finally {
      await thread.close();
      await backend.cleanup();
    }
  });
}

Deno.test("store thread: a PGlite folder held by another store fails every call, and closes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oreal-thread-" });
  await seedPgliteDir(`${dir}/db`);
  const holder = await openStore({ dataDir: `${dir}/db` });
  try {
    const thread = openStoreThread({ dataDir: `${dir}/db` });
    await assertRejects(() => thread.ready, StoreConnectError, "open in another process");
    await assertRejects(() => thread.findRun("x"), StoreConnectError, "open in another process");
    await thread.close();
    await assertRejects(() => thread.findRun("x"), Error, "the store is closed");
  } finally {
    await holder.close();
  }
});

Deno.test("store thread: createsDatabase is true for memory and for a folder without a database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oreal-thread-" });
  assertEquals(await createsDatabase({ dataDir: "memory://" }), true);
  assertEquals(await createsDatabase({ dataDir: `${dir}/db` }), true);
  await seedPgliteDir(`${dir}/db`);
  assertEquals(await createsDatabase({ dataDir: `${dir}/db` }), false);
  assertEquals(await createsDatabase({ databaseUrl: "postgres://u@localhost/x" }), false);
});
