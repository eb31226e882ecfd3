/**
 * A verification worker for tests: `core/verify` behind the pool's protocol, except that a response starting
 * with `SPIN` never returns (a busy loop that no cooperative budget can stop, as catastrophic backtracking
 * would), and `BUSY <ms>` keeps the worker busy for that long before answering `wrong`.
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import { serveVerifier } from "../edge/verify_pool/protocol.ts";

serveVerifier((gold, response, options) => {
  if (response.startsWith("SPIN")) { for (;;) { /* never returns */ } }
  const busy = /^BUSY (\d+)/.exec(response);
  if (busy) {
    const until = performance.now() + Number(busy[1]);
    while (performance.now() < until) { /* busy */ }
    return { correct: false, status: "wrong", extracted: null, reason: "busy test item" };
  }
  return verify(gold, response, options);
});
