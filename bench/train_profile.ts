/**
 * Where a `deno task train` run spends its time on the CPU backend: runs the real training driver (a shortened
 * tiny-preset run by default) on a backend whose every operation is timed, and prints per operation the calls,
 * milliseconds and share of the wall time. The CPU backend is synchronous, so the time inside a method is the
 * operation's whole cost; the rest of the wall time is host work (token sampling, verification, the store,
 * checkpoints, JavaScript around the kernels).
 *
 * Run: deno run -A bench/train_profile.ts [--threads N] [train flags...]
 *   default train flags: --sft-steps 100 --steps 10 --eval-every 0 --pass-k 1 --test-problems 100
 *
 * @module
 */

import { createCpuBackend, defaultThreads } from "../trainer/gpu/cpu/mod.ts";
import type { Backend } from "../trainer/gpu/backend.ts";
import { parseTrainArgs } from "../trainer/rl/config.ts";
import { PhaseClock } from "../trainer/rl/metrics.ts";
import { Reporter } from "../trainer/rl/reporter.ts";
import { runTraining } from "../trainer/rl/train.ts";

/** Calls and total milliseconds per operation name. */
type Profile = Map<string, { calls: number; ms: number }>;

/** The training phase running now ("setup" outside {@linkcode PhaseClock.time}), and each phase's wall time. */
let phase = "setup";
const phaseMs = new Map<string, number>();
const timePhase = PhaseClock.prototype.time;
PhaseClock.prototype.time = async function <T>(
  this: PhaseClock,
  name: Parameters<PhaseClock["time"]>[0],
  fn: () => Promise<T> | T,
  tokens: (value: T) => number,
): Promise<T> {
  const outer = phase, t0 = performance.now();
  phase = name;
  try {
    return await timePhase.call(this, name, fn, tokens as (value: unknown) => number) as T;
  } finally {
    phase = outer;
    phaseMs.set(name, (phaseMs.get(name) ?? 0) + performance.now() - t0);
  }
};

/** `backend` with every function member timed into `profile` (methods are synchronous on the CPU backend). */
export function profiled(backend: Backend, profile: Profile): Backend {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const result = value.apply(target, args);
        const key = `${phase}/${prop}`;
        const entry = profile.get(key) ?? { calls: 0, ms: 0 };
        entry.calls++;
        entry.ms += performance.now() - t0;
        profile.set(key, entry);
        return result;
      };
    },
  });
}

/** Prints `profile` per phase, operations sorted by time, with shares of `wallMs`; `phases` holds phase wall times. */
export function printProfile(profile: Profile, phases: Map<string, number>, wallMs: number): void {
  const pct = (ms: number) => ((100 * ms) / wallMs).toFixed(1).padStart(6);
  const line = (name: string, calls: string, ms: number) =>
    console.log(`  ${name.padEnd(22)} ${calls.padStart(8)} ${ms.toFixed(0).padStart(9)} ${pct(ms)}%`);
  const inPhases = [...phases.values()].reduce((a, b) => a + b, 0);
  const walls = new Map([...phases, ["setup", wallMs - inPhases]]);
  console.log(
    `  ${"phase / operation".padEnd(22)} ${"calls".padStart(8)} ${"ms".padStart(9)} ${"wall".padStart(7)}`,
  );
  for (const [name, ms] of [...walls].sort((a, b) => b[1] - a[1])) {
    const rows = [...profile].filter(([k]) => k.startsWith(`${name}/`)).sort((a, b) => b[1].ms - a[1].ms);
    const inBackend = rows.reduce((a, [, e]) => a + e.ms, 0);
    console.log(
      `${name}: ${(ms / 1000).toFixed(1)} s (${pct(ms).trim()}%), backend ${pct(inBackend).trim()}%`,
    );
    for (const [key, e] of rows) {
      if (e.ms >= wallMs * 0.002) line(key.slice(name.length + 1), String(e.calls), e.ms);
    }
    line("(host)", "", ms - inBackend);
  }
  const totals = new Map<string, number>();
  for (const [key, e] of profile) {
    const op = key.slice(key.indexOf("/") + 1);
    totals.set(op, (totals.get(op) ?? 0) + e.ms);
  }
  console.log("all phases:");
  for (const [op, ms] of [...totals].sort((a, b) => b[1] - a[1])) if (ms >= wallMs * 0.002) line(op, "", ms);
  line("(host)", "", wallMs - [...totals.values()].reduce((a, b) => a + b, 0));
}

if (import.meta.main) {
  const args = [...Deno.args];
  const ti = args.indexOf("--threads");
  const threads = ti >= 0 ? Number(args[ti + 1]) : defaultThreads();
  const defaults = ["--sft-steps", "100", "--steps", "10", "--eval-every", "0", "--pass-k", "1"];
  const out = await Deno.makeTempDir({ prefix: "oreal-profile-" });
  // Its own store and files, so the profile leaves nothing in the project's store.
  const files = ["--test-problems", "100", "--out", out, "--data-dir", `${out}/db`];
  const config = parseTrainArgs([...defaults, ...files, ...args]);
  const profile: Profile = new Map();
  const t0 = performance.now();
  await runTraining(config, {
    reporter: new Reporter({ write: () => {}, isTerminal: false }),
    createBackend: () => {
      const be = createCpuBackend({ threads });
      return Promise.resolve({ backend: profiled(be, profile), name: "cpu", adapter: be.device });
    },
  });
  const wall = performance.now() - t0;
  console.log(
    `train profile: ${threads} thread(s), wall ${(wall / 1000).toFixed(1)} s, args ${args.join(" ")}`,
  );
  printProfile(profile, phaseMs, wall);
  await Deno.remove(out, { recursive: true });
}
