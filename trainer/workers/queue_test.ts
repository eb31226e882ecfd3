import { assert, assertEquals, assertRejects } from "@std/assert";
import type { Problem } from "../../core/data/mod.ts";
import { connect, openStore, type Store } from "../store/mod.ts";
import { pgliteTemplate } from "../store/testing.ts";
import { JobQueue, type JobRollout, type JobSettings, openQueue, QueueUnavailableError } from "./queue.ts";

const DATABASE_URL = Deno.env.get("DATABASE_URL");
const SKIP = DATABASE_URL === undefined;
if (SKIP) console.log("queue_test: DATABASE_URL is not set; the PostgreSQL job-queue tests are skipped");

const SETTINGS: JobSettings = {
  samplesPerPrompt: 3,
  maxNewTokens: 8,
  temperature: 1,
  topP: 1,
  topK: 0,
  seed: 1,
  template: "plain",
};

function problem(i: number): Problem {
  return {
    id: `q${i}`,
    source: "gen/test",
    prompt: `What is ${i}+${i}?`,
    gold: String(2 * i),
    chain: [`${i}`],
  };
}

function responses(k: number, tag: string): JobRollout[] {
  return Array.from({ length: k }, (_, i) => ({
    sampleIndex: i,
    tokens: [1, 2, i],
    response: `${tag} \\boxed{${i}}`,
    finishReason: "stop",
    verifierStatus: i === 0 ? "correct" : "wrong",
    extractedAnswer: String(i),
    correct: i === 0,
    departure: i === 0 ? null : { step: 0, token: 1 },
  }));
}

/** A fresh run (unique name) in the database's public schema, with a store and a queue on it. */
async function fixture(): Promise<{ store: Store; queue: JobQueue; runId: number; close(): Promise<void> }> {
  const store = await openStore({ databaseUrl: DATABASE_URL });
  const queue = await openQueue({ databaseUrl: DATABASE_URL });
  const runId = await store.createRun({
    name: `queue-test-${crypto.randomUUID().slice(0, 8)}`,
    method: "oreal",
    config: {},
  });
  return {
    store,
    queue,
    runId,
    close: async () => {
      await store.setRunStatus(runId, "finished");
      await queue.close();
      await store.close();
    },
  };
}

Deno.test("queue: PGlite is refused with a message that says why", async () => {
  const err = await assertRejects(() => openQueue({ databaseUrl: undefined }), QueueUnavailableError);
  assert(err.message.includes("PGlite") && err.message.includes("one process"), err.message);
  const pglite = await connect({
    dataDir: "memory://",
    schema: "public",
    connectTimeoutSeconds: 5,
    pgliteTemplate: await pgliteTemplate(),
  });
  try {
    let thrown: unknown;
    try {
      new JobQueue(pglite);
    } catch (e) {
      thrown = e;
    }
    assert(thrown instanceof QueueUnavailableError);
  } finally {
    await pglite.close();
  }
});

Deno.test({
  name: "queue: leases are exclusive, expire, and a job's responses are written once, by its lease holder",
  ignore: SKIP,
  fn: async () => {
    const f = await fixture();
    try {
      const { queue, runId } = f;
      await queue.publishPolicy(runId, 0, "/nowhere/v-000000", "a".repeat(64));
      const jobs = [0, 1, 2, 3].map((i) => ({ groupIndex: i, problem: problem(i), settings: SETTINGS }));
      assertEquals(await queue.enqueue(runId, 1, 0, jobs), 0);
      // Enqueueing again (a resumed trainer) keeps the jobs and their version.
      await queue.publishPolicy(runId, 1, "/nowhere/v-000001", "b".repeat(64));
      assertEquals(await queue.enqueue(runId, 1, 1, jobs), 0);
      assertEquals((await queue.progress(runId, 1)).total, 4);

      // Concurrent leases from two connections never share a job.
      const other = await openQueue({ databaseUrl: DATABASE_URL });
      try {
        const leased = await Promise.all([
          queue.lease("a", 60, runId),
          other.lease("b", 60, runId),
          queue.lease("a", 60, runId),
          other.lease("b", 60, runId),
        ]);
        assertEquals(new Set(leased.map((j) => j!.id)).size, 4);
        assertEquals(await queue.lease("c", 60, runId), null);
        const first = leased.find((j) => j!.groupIndex === 0)!;
        assertEquals(first.problem.gold, "0");
        assertEquals(first.policy.sha256, "a".repeat(64));
        assertEquals(first.settings, SETTINGS);

        // A wrong token neither renews nor completes.
        const forged = { ...first, leaseToken: "forged" };
        assertEquals(await queue.renew(forged, 60), false);
        assertEquals(await queue.complete(forged, responses(3, "forged")), false);

        // Every job but the first completes; the first one's lease is left to expire.
        for (const j of leased) if (j !== first) assert(await queue.complete(j!, responses(3, `w${j!.id}`)));
        // The first one's holder gives it back after a failed attempt: it is leased again at once, by c, with a
        // 1 s lease that then expires.
        assert(await other.release(first, "sampling failed"));
        const byC = (await queue.lease("c", 1, runId))!;
        assertEquals(byC.id, first.id);
        assertEquals(byC.attempts, 2);
        assertEquals(await queue.lease("d", 60, runId), null);
        await new Promise((r) => setTimeout(r, 1500));
        const byD = (await queue.lease("d", 60, runId))!;
        assertEquals(byD.id, first.id);
        assertEquals(byD.attempts, 3);
        // c comes back late: its lease is gone, it writes nothing; d's responses are the job's.
        assertEquals(await queue.renew(byC, 60), false);
        assertEquals(await queue.complete(byC, responses(3, "late")), false);
        assert(await queue.complete(byD, responses(3, "d")));
        assertEquals(await queue.complete(byD, responses(3, "again")), false);

        const p = await queue.progress(runId, 1);
        assertEquals([p.total, p.done], [4, 4]);
        const groups = await queue.finishedGroups(runId, 1);
        assertEquals(groups.map((g) => g.groupIndex), [0, 1, 2, 3]);
        for (const g of groups) {
          assertEquals(g.rollouts.map((r) => r.sampleIndex), [0, 1, 2]);
          assertEquals(g.policyLag, 0);
        }
        assertEquals(groups[0].rollouts[0].response, "d \\boxed{0}");
        assertEquals(groups[0].rollouts[1].departure, { step: 0, token: 1 });
        assertEquals(groups[0].problem.chain, ["0"]);
      } finally {
        await other.close();
      }
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "queue: a failed attempt is reported; responses must cover every sample once; lag is step - 1 - version",
  ignore: SKIP,
  fn: async () => {
    const f = await fixture();
    try {
      const { queue, runId } = f;
      await queue.publishPolicy(runId, 4, "/nowhere/v-000004", "c".repeat(64));
      await queue.enqueue(runId, 6, 4, [{ groupIndex: 0, problem: problem(5), settings: SETTINGS }]);
      const job = (await queue.lease("a", 60, runId))!;
      assert(await queue.release(job, "policy folder unreadable"));
      assertEquals((await queue.progress(runId, 6)).worstFailure, {
        attempts: 1,
        lastError: "policy folder unreadable",
      });
      const again = (await queue.lease("a", 60, runId))!;
      await assertRejects(() => queue.complete(again, responses(2, "short")), RangeError);
      const doubled = responses(3, "x");
      doubled[2] = { ...doubled[2], sampleIndex: 1 };
      await assertRejects(() => queue.complete(again, doubled), RangeError);
      assert(await queue.complete(again, responses(3, "ok")));
      const [g] = await queue.finishedGroups(runId, 6);
      assertEquals([g.policyVersion, g.policyLag], [4, 1]);
      // A finished run's open jobs are not leased.
      await queue.enqueue(runId, 7, 4, [{ groupIndex: 0, problem: problem(6), settings: SETTINGS }]);
      await f.store.setRunStatus(runId, "failed");
      assertEquals(await queue.lease("a", 60, runId), null);
      await queue.dropOpenJobs(runId);
      assertEquals((await queue.progress(runId, 7)).total, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "queue: a batch lease takes one step's jobs, split with the run's other idle workers",
  ignore: SKIP,
  fn: async () => {
    const f = await fixture();
    try {
      const { queue, runId } = f;
      await queue.publishPolicy(runId, 0, "/nowhere/v-000000", "d".repeat(64));
      await queue.enqueue(runId, 1, 0, [{ groupIndex: 0, problem: problem(0), settings: SETTINGS }]);
      const eight = [...Array(8).keys()].map((i) => ({
        groupIndex: i,
        problem: problem(i),
        settings: SETTINGS,
      }));
      await queue.enqueue(runId, 2, 0, eight);
      await queue.enqueue(runId, 3, 0, eight);
      // Alone, a worker takes what is open of the oldest step, up to its maximum.
      const first = await queue.leaseBatch("a", 60, 32, runId);
      assertEquals(first.map((j) => j.step), [1]);
      assert(await queue.complete(first[0], responses(3, "a")));
      // a finished a job a moment ago and holds nothing: b takes half of step 2, and a, while b holds its
      // half, the rest; neither gets a job of step 3 in the same batch.
      const byB = await queue.leaseBatch("b", 60, 32, runId);
      assertEquals([byB.length, new Set(byB.map((j) => j.step)).size, byB[0].step], [4, 1, 2]);
      const byA = await queue.leaseBatch("a", 60, 32, runId);
      assertEquals(byA.map((j) => j.groupIndex), [4, 5, 6, 7]);
      assertEquals(byA[0].step, 2);
      // A batch is written in one transaction, except the jobs whose lease was lost meanwhile.
      assert(await queue.release(byA[0], "taken over"));
      const stolen = (await queue.lease("d", 60, runId))!;
      assertEquals(stolen.id, byA[0].id);
      assertEquals(
        await queue.completeBatch(byA, byA.map((j) => responses(3, `a${j.id}`))),
        [false, true, true, true],
      );
      assert(await queue.complete(stolen, responses(3, "d")));
      const written = await queue.finishedGroups(runId, 2);
      assertEquals(written.map((g) => g.rollouts[0].response.split(" ")[0]), [
        "d",
        `a${byA[1].id}`,
        `a${byA[2].id}`,
        `a${byA[3].id}`,
      ]);
      // The maximum caps a batch.
      assertEquals((await queue.leaseBatch("c", 60, 3, runId)).length, 3);
    } finally {
      await f.close();
    }
  },
});
