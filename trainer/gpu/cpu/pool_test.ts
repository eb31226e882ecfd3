import { assertEquals } from "@std/assert";
import { ABSENT_JOBS, judgeJob, LATE_MS } from "./pool.ts";

const joined = { waitedMs: 0.01, ownMs: 0.05, mine: 2, tiles: 4, quiet: false };

Deno.test("judgeJob: a job a worker joined in time resets the count of absent jobs", () => {
  assertEquals(judgeJob(joined, ABSENT_JOBS - 1), { contended: false, absent: 0 });
});

Deno.test("judgeJob: jobs in a row that no spinning worker joined mark the pool contended", () => {
  const alone = { ...joined, mine: 4 };
  let absent = 0;
  for (let i = 1; i < ABSENT_JOBS; i++) {
    const v = judgeJob(alone, absent);
    assertEquals(v, { contended: false, absent: i });
    absent = v.absent;
  }
  assertEquals(judgeJob(alone, absent), { contended: true, absent: 0 });
});

Deno.test("judgeJob: a job that workers told to sleep missed does not count, so contention ends", () => {
  // While contended, workers sleep between jobs and miss large jobs by design: counting those kept the pool
  // contended for good.
  const missedAsleep = { ...joined, mine: 4, quiet: true };
  assertEquals(judgeJob(missedAsleep, ABSENT_JOBS - 1), { contended: false, absent: 0 });
});

Deno.test("judgeJob: waiting on a descheduled worker marks the pool contended, quiet or not", () => {
  // 4 tiles of 0.05 ms: the caller ran 2 (0.1 ms) and then waited 0.6 ms for the worker's last one.
  const late = { waitedMs: LATE_MS + 0.1, ownMs: 0.1, mine: 2, tiles: 4, quiet: false };
  assertEquals(judgeJob(late, 0), { contended: true, absent: 0 });
  assertEquals(judgeJob({ ...late, quiet: true }, 0), { contended: true, absent: 0 });
  // The same wait after long tiles (5 ms each) is a worker finishing its own tile, not a late one.
  assertEquals(judgeJob({ ...late, ownMs: 10 }, 0), { contended: false, absent: 0 });
});
