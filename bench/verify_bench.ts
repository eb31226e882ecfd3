/**
 * Verification throughput on one core: `deno task bench bench/verify_bench.ts`. Goals: ≥ 20,000 numeric
 * and ≥ 2,000 symbolic verifications per second.
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import { LONG, NUMERIC, SETS, SYMBOLIC } from "./verify_cases.ts";

function runAll(cases: [string, string][]): number {
  let correct = 0;
  for (const [gold, response] of cases) if (verify(gold, response).correct) correct++;
  return correct;
}

Deno.bench({ name: "numeric answers (64 per iteration)", group: "verify", fn: () => void runAll(NUMERIC) });
Deno.bench({
  name: "symbolic expressions (8 per iteration)",
  group: "verify",
  fn: () => void runAll(SYMBOLIC),
});
Deno.bench({
  name: "sets, tuples and intervals (6 per iteration)",
  group: "verify",
  fn: () => void runAll(SETS),
});
Deno.bench({
  name: "long responses, 20k chars (2 per iteration)",
  group: "verify",
  fn: () => void runAll(LONG),
});
