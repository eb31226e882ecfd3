/**
 * Verification off the request thread, over real HTTP: a verification that never returns (a busy loop in the
 * worker, as catastrophic backtracking would be) does not stop `/healthz` or other verify requests, and is
 * answered `status: "timeout"` once its hard deadline passes, with its worker replaced.
 */

import { assert, assertEquals } from "@std/assert";
import { VerifyPool } from "../edge/verify_pool/pool.ts";
import { spinItem } from "./edge_spin_release.ts";
import { startServer } from "./edge_harness.ts";

const SPIN_WORKER = new URL("./edge_spin_verify_worker.ts", import.meta.url);

function postVerify(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/verify`, { method: "POST", body: JSON.stringify(body) });
}

Deno.test("http: /healthz and other verifications answer while a verification is stuck; it ends as a timeout", async () => {
  const pool = new VerifyPool({ workers: 2, graceMs: 200, workerUrl: SPIN_WORKER });
  const server = startServer({
    verify: (gold, response, options) => pool.verify(gold, response, options),
    limits: { verifyTimeMs: 1000 },
  });
  const spin = await spinItem();
  try {
    // Wait until the workers have loaded, so that what follows measures a stuck worker, not a loading one.
    await pool.ready();
    assertEquals(
      (await (await postVerify(server.url, { gold: "1", response: "\\boxed{1}" })).json()).reward,
      1,
    );
    let stuckDone = false;
    const stuck = postVerify(server.url, { gold: "1", response: spin.response }).then(async (res) => {
      stuckDone = true;
      return { status: res.status, body: await res.json() };
    });
    let healthAnswers = 0;
    let verifyAnswers = 0;
    while (!stuckDone) {
      const health = await fetch(`${server.url}/healthz`);
      assertEquals([health.status, await health.json()], [200, { status: "ok" }]);
      if (!stuckDone) healthAnswers++;
      const other = await (await postVerify(server.url, { gold: "2", response: "\\boxed{2}" })).json();
      assertEquals(other.status, "correct");
      if (!stuckDone) verifyAnswers++;
      await new Promise((r) => setTimeout(r, 20));
    }
    const { status, body } = await stuck;
    assertEquals(status, 200);
    assertEquals([body.correct, body.status, body.reward], [false, "timeout", -1]);
    assert(healthAnswers >= 3, `only ${healthAnswers} /healthz answers while the verification was stuck`);
    assert(verifyAnswers >= 3, `only ${verifyAnswers} verify answers while the verification was stuck`);
    assertEquals(pool.restarts, 1);
    // The replacement worker serves.
    const after = await (await postVerify(server.url, { gold: "3", response: "\\boxed{3}" })).json();
    assertEquals(after.status, "correct");
  } finally {
    await server.close();
    pool.close();
    await spin.release();
  }
});

Deno.test("http: a batch with a stuck item answers every other item and times out only the stuck one", async () => {
  const pool = new VerifyPool({ workers: 2, graceMs: 200, workerUrl: SPIN_WORKER });
  const server = startServer({
    verify: (gold, response, options) => pool.verify(gold, response, options),
    limits: { verifyTimeMs: 1000 },
  });
  const spin = await spinItem();
  try {
    await pool.ready();
    const items = Array.from({ length: 20 }, (_, i) => ({ gold: `${i}`, response: `\\boxed{${i}}` }));
    items[3] = { gold: "3", response: spin.response };
    const res = await postVerify(server.url, { items });
    assertEquals(res.status, 200);
    const { results } = await res.json();
    assertEquals(
      results.map((r: { status: string }) => r.status),
      items.map((_, i) => i === 3 ? "timeout" : "correct"),
    );
  } finally {
    await server.close();
    pool.close();
    await spin.release();
  }
});
