/**
 * A verification worker for tests: `core/verify` behind the pool's protocol, except that a response
 * `SPIN <file>` (`spinItem` in `edge_spin_release.ts`) does not return while the test runs (a busy loop that no cooperative
 * budget can stop, as catastrophic backtracking would): only the test's release, once it is done with the pool,
 * ends it, as `Worker.terminate()` cannot (see `edge_spin_release.ts`). `BUSY <ms>` keeps the worker busy for that
 * long before answering `wrong`.
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import { serveVerifier } from "../edge/verify_pool/protocol.ts";
import { spinReleaseFile } from "./edge_spin_release.ts";

/** Loops until `file` exists (looking every 50 ms), then removes it. */
function spinUntilReleased(file: string): void {
  for (let next = performance.now() + 50;;) {
    if (performance.now() < next) continue;
    next += 50;
    try {
      Deno.removeSync(file);
      return;
    } catch {
      // not released yet
    }
  }
}

serveVerifier((gold, response, options) => {
  const release = spinReleaseFile(response);
  if (release !== null) {
    spinUntilReleased(release);
    return { correct: false, status: "wrong", extracted: null, reason: "released spin test item" };
  }
  const busy = /^BUSY (\d+)/.exec(response);
  if (busy) {
    const until = performance.now() + Number(busy[1]);
    while (performance.now() < until) { /* busy */ }
    return { correct: false, status: "wrong", extracted: null, reason: "busy test item" };
  }
  return verify(gold, response, options);
});
