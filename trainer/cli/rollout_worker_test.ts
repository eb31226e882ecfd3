import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../../core/cli/mod.ts";
import { parseWorkerArgs, WORKER_USAGE } from "./rollout_worker.ts";

Deno.test("rollout-worker: flags, defaults, and clear errors", () => {
  const env = { DATABASE_URL: "postgres://u@h/db" };
  const d = parseWorkerArgs([], env);
  assertEquals([d.databaseUrl, d.backend, d.leaseSeconds, d.pollMs, d.exitWithStdin], [
    "postgres://u@h/db",
    "auto",
    60,
    500,
    false,
  ]);
  const p = parseWorkerArgs([
    "--database-url=postgres://x/y",
    "--backend",
    "cpu",
    "--threads",
    "2",
    "--verifier-url",
    "http://v:8787",
    "--run",
    "my-run",
    "--mount",
    "/srv/runs=/mnt/runs/",
    "--lease-seconds",
    "30",
    "--idle-exit",
    "5",
    "--exit-with-stdin",
    "--log",
    "w.log",
  ], env);
  assertEquals(p.databaseUrl, "postgres://x/y");
  assertEquals(p.mounts, [{ from: "/srv/runs", to: "/mnt/runs" }]);
  assertEquals(p.logFile, "w.log");
  assertEquals([p.threads, p.verifierUrl, p.run, p.leaseSeconds, p.idleExitSeconds, p.exitWithStdin], [
    2,
    "http://v:8787",
    "my-run",
    30,
    5,
    true,
  ]);
  assertThrows(() => parseWorkerArgs([], {}), UsageError, "PostgreSQL");
  assertThrows(() => parseWorkerArgs(["--backend", "tpu"], env), UsageError, "--backend");
  assertThrows(() => parseWorkerArgs(["--threads", "0"], env), UsageError, "--threads");
  assertThrows(() => parseWorkerArgs(["--mount", "nope"], env), UsageError, "FROM=TO");
  assertThrows(() => parseWorkerArgs(["--lease-seconds"], env), UsageError, "needs a value");
  assertThrows(() => parseWorkerArgs(["--bogus", "1"], env), UsageError, "unknown flag");
});

Deno.test("rollout-worker: --help lists every flag and needs no database", () => {
  assertEquals(parseWorkerArgs(["--help"], {}).help, true);
  for (
    const flag of ["--database-url", "--max-jobs", "--mount", "--log", "--exit-with-stdin", "--verifier-url"]
  ) {
    assertEquals(WORKER_USAGE.includes(flag), true, flag);
  }
});
