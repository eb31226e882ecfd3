/**
 * Per-verification latency (p50, p99) and throughput of the verifier on one core, by kind of answer:
 * `deno run --allow-read bench/verify_latency.ts [SECONDS_PER_KIND]`.
 *
 * @module
 */

import { verify } from "../core/verify/mod.ts";
import { benchFlags } from "./flags.ts";
import { LONG, NUMERIC, SETS, SYMBOLIC } from "./verify_cases.ts";

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Times single verifications of `cases` in a loop for `seconds`; returns per-call figures in microseconds. */
export function measure(
  cases: [string, string][],
  seconds: number,
): { n: number; p50: number; p99: number; perSec: number } {
  const times: number[] = [];
  const start = performance.now();
  let k = 0;
  while (performance.now() - start < seconds * 1000) {
    const [gold, response] = cases[k++ % cases.length];
    const t0 = performance.now();
    verify(gold, response);
    times.push((performance.now() - t0) * 1000);
  }
  const total = (performance.now() - start) / 1000;
  times.sort((a, b) => a - b);
  return {
    n: times.length,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    perSec: times.length / total,
  };
}

if (import.meta.main) {
  const { positionals } = benchFlags("Run: deno run -A bench/verify_latency.ts [SECONDS] (default 2)", {}, {
    positionals: true,
  });
  const seconds = Number(positionals[0] ?? 2);
  for (
    const [name, cases] of Object.entries({ numeric: NUMERIC, symbolic: SYMBOLIC, sets: SETS, long: LONG })
  ) {
    for (const [g, r] of cases) verify(g, r); // warm the gold cache and the JIT
    const m = measure(cases, seconds);
    console.log(
      `${name.padEnd(9)} n=${String(m.n).padStart(7)}  p50=${m.p50.toFixed(1).padStart(7)} µs  ` +
        `p99=${m.p99.toFixed(1).padStart(7)} µs  ${Math.round(m.perSec).toString().padStart(7)} /s`,
    );
  }
}
