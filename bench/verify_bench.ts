/**
 * Verification throughput on one core: `deno task bench bench/verify_bench.ts`. Goals: ≥ 20,000 numeric
 * verifications per second, ≥ 7,500 per second over the shipped equivalence vectors (skipped when
 * `../shared` is absent), ≥ 2,000 symbolic ones.
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import type { VerifyOptions } from "../core/verify/mod.ts";
import { sharedPath } from "../tests/shared.ts";
import { LONG, NUMERIC, SETS, SYMBOLIC } from "./verify_cases.ts";

function runAll(cases: [string, string][]): number {
  let correct = 0;
  for (const [gold, response] of cases) if (verify(gold, response).correct) correct++;
  return correct;
}

/** The shipped equivalence vectors as `[gold, pred, options]`, or null when `../shared` is absent. */
function readVectors(): [string, string, VerifyOptions][] | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(sharedPath("data/verifier/equivalence_cases.jsonl"));
  } catch {
    return null;
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const row = JSON.parse(l);
    const o = row.options ?? {};
    const options: VerifyOptions = {};
    if (typeof o.precision === "number") options.decimalPlaces = o.precision;
    if (o.allow_set_relation_comp === true) options.relationAsSet = true;
    return [row.gold, row.pred, options];
  });
}

const VECTORS = readVectors();

Deno.bench({ name: "numeric answers (64 per iteration)", group: "verify", fn: () => void runAll(NUMERIC) });
Deno.bench({
  name: `shipped equivalence vectors (${VECTORS?.length ?? 0} per iteration)`,
  group: "verify",
  ignore: VECTORS === null,
  fn: () => {
    for (const [gold, pred, options] of VECTORS!) verify(gold, pred, options);
  },
});
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
