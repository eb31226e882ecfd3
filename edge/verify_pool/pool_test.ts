import { assert, assertEquals, assertRejects } from "@std/assert";
import { spinItem } from "../../tests/edge_spin_release.ts";
import { VerifyPool, VerifyPoolBusyError } from "./pool.ts";

const SPIN_WORKER = new URL("../../tests/edge_spin_verify_worker.ts", import.meta.url);

Deno.test("VerifyPool: verdicts match core/verify, in any number of concurrent items", async () => {
  const pool = new VerifyPool({ workers: 2, maxBatch: 4 });
  try {
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool.verify(`${i}`, `so \\boxed{${i % 2 === 0 ? i : i + 1}}`)),
    );
    verdicts.forEach((v, i) => assertEquals(v.status, i % 2 === 0 ? "correct" : "wrong"));
    assertEquals((await pool.verify("1", "\\boxed{1}", { truncated: true })).correct, false);
    assertEquals(pool.restarts, 0);
  } finally {
    pool.close();
  }
});

Deno.test("VerifyPool: a worker stuck past the deadline is replaced; its item is a timeout, the rest are answered", async () => {
  const pool = new VerifyPool({ workers: 1, graceMs: 100, maxBatch: 8, workerUrl: SPIN_WORKER });
  const spin = await spinItem();
  try {
    const stuck = pool.verify("1", spin.response, { timeoutMs: 100 });
    // Items behind the stuck one in its batch go back to the queue and are answered by the replacement.
    const others = Array.from(
      { length: 5 },
      (_, i) => pool.verify(`${i}`, `\\boxed{${i}}`, { timeoutMs: 5000 }),
    );
    const verdict = await stuck;
    assertEquals(verdict.status, "timeout");
    assertEquals(verdict.correct, false);
    for (const v of await Promise.all(others)) assertEquals(v.status, "correct");
    assertEquals(pool.restarts, 1);
  } finally {
    pool.close();
    await spin.release();
  }
});

Deno.test("VerifyPool: items not started by their startBy time are timeouts, unrun", async () => {
  const pool = new VerifyPool({ workers: 1, workerUrl: SPIN_WORKER, rebalanceAfterMs: 10 });
  try {
    const busy = pool.verify("1", "BUSY 300");
    const late = await pool.verify("1", "\\boxed{1}", { startBy: performance.now() + 50 });
    assertEquals(late.status, "timeout");
    assertEquals((await busy).status, "wrong");
    assertEquals(pool.restarts, 0);
  } finally {
    pool.close();
  }
});

Deno.test("VerifyPool: a full waiting line refuses; a closed pool rejects", async () => {
  const pool = new VerifyPool({ workers: 1, maxQueued: 2, workerUrl: SPIN_WORKER });
  const waiting = [pool.verify("1", "BUSY 50"), pool.verify("1", "BUSY 50")];
  await assertRejects(() => pool.verify("1", "x"), VerifyPoolBusyError);
  pool.close();
  for (const w of waiting) await assertRejects(() => w, Error, "closed");
  await assertRejects(() => pool.verify("1", "x"), Error, "closed");
  assert(pool.queued === 0);
});

Deno.test("VerifyPool: a worker that fails to load is restarted with a growing delay, and items time out", async () => {
  const broken = new URL("data:application/javascript,throw new Error('cannot load')");
  const pool = new VerifyPool({ workers: 1, workerUrl: broken });
  try {
    const verdict = await pool.verify("1", "\\boxed{1}", { startBy: performance.now() + 500 });
    assertEquals(verdict.status, "timeout");
    // 100, 200, 400 ms... between attempts: a handful of restarts in half a second, not a spin.
    assert(pool.restarts >= 1 && pool.restarts <= 5, `${pool.restarts} restarts`);
  } finally {
    pool.close();
  }
});

Deno.test("VerifyPool: while every worker is stuck and items wait, another worker is started", async () => {
  const pool = new VerifyPool({ workers: 1, maxWorkers: 2, graceMs: 0, workerUrl: SPIN_WORKER });
  const spin = await spinItem();
  try {
    await pool.ready();
    const stuck = pool.verify("1", spin.response, { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 150));
    // Answered by the second worker, long before the stuck item's deadline.
    assertEquals((await pool.verify("2", "\\boxed{2}")).status, "correct");
    assertEquals(pool.restarts, 0);
    pool.close();
    await assertRejects(() => stuck, Error, "closed");
  } finally {
    pool.close();
    await spin.release();
  }
});
