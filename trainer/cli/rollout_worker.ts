/**
 * `deno task rollout-worker`: a rollout worker on this or another machine. It leases sampling jobs from the
 * PostgreSQL database a trainer run uses (`deno task train --external-workers` or `--rollout-workers N`), and
 * writes each job's verified responses in one transaction with its completion. See `--help`.
 * @module
 */
import { HELP_FLAG, parseFlags, UsageError, usageText } from "../../core/cli/mod.ts";
import { BACKEND_CHOICES, type BackendChoice, createBackend } from "../gpu/auto.ts";
import { redactUrl } from "../store/mod.ts";
import { httpVerifier } from "../workers/http_verifier.ts";
import { parseMount, type PathMount } from "../workers/policy.ts";
import { openQueue } from "../workers/queue.ts";
import { runWorker } from "../workers/worker.ts";

/** The worker's flags. */
const FLAGS = {
  "database-url": {
    type: "string",
    arg: "URL",
    help: "the trainer's PostgreSQL server (default $DATABASE_URL)",
  },
  backend: { type: "string", arg: "B", default: "auto", help: "auto|webgpu|cpu" },
  threads: { type: "string", arg: "N", help: "CPU backend threads (default: the machine's cores)" },
  "verifier-url": {
    type: "string",
    arg: "URL",
    help: "verify with the edge verifier's POST /v1/verify (token: $OREAL_VERIFIER_API_KEY)",
  },
  run: { type: "string", arg: "NAME|ID", help: "serve only this run (default: every running run)" },
  mount: {
    type: "string",
    arg: "FROM=TO",
    multiple: true,
    help: "the trainer's folders under FROM are under TO here (repeatable)",
  },
  "max-jobs": {
    type: "string",
    arg: "N",
    default: "32",
    help: "most jobs (prompts) in one batch, shared with idle workers",
  },
  "lease-seconds": {
    type: "string",
    arg: "N",
    default: "60",
    help: "lease length: a job whose worker stops renewing is retried after it",
  },
  "poll-ms": { type: "string", arg: "N", default: "500", help: "wait between two polls of an empty queue" },
  "idle-exit": { type: "string", arg: "N", help: "exit after N seconds without a job (default: never)" },
  log: { type: "string", arg: "FILE", help: "append progress lines to FILE instead of printing them" },
  "exit-with-stdin": {
    type: "boolean",
    help: "exit when standard input closes (for the trainer's own workers)",
  },
  ...HELP_FLAG,
} as const;

/** Usage text of `--help`. */
export const WORKER_USAGE: string = usageText(
  "Usage: deno task rollout-worker --database-url URL [flags]\n\n" +
    "Leases sampling jobs from the trainer's PostgreSQL database, samples K responses per job with the job's\n" +
    "policy version, verifies them and writes them back. Runs until interrupted (Ctrl-C finishes the current\n" +
    "batch).",
  FLAGS,
);

/** The parsed flags. */
export interface WorkerArgs {
  databaseUrl?: string;
  backend: BackendChoice;
  threads?: number;
  verifierUrl?: string;
  run?: string;
  mounts: PathMount[];
  maxJobs: number;
  leaseSeconds: number;
  pollMs: number;
  idleExitSeconds?: number;
  exitWithStdin: boolean;
  /** File that progress lines are appended to (default: standard output). */
  logFile?: string;
  /** `--help` was given. */
  help: boolean;
}

function positiveInt(flag: string, raw: string): number {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) === 0) {
    throw new UsageError(`--${flag}: expected a positive integer, got "${raw}"`);
  }
  return Number(raw);
}

/** Parses the worker's flags; `env` supplies `DATABASE_URL`. Throws a `UsageError` naming the flag. */
export function parseWorkerArgs(args: readonly string[], env: { DATABASE_URL?: string } = {}): WorkerArgs {
  const { values: v } = parseFlags(args, FLAGS);
  const backend = v.backend ?? "auto";
  if (!(BACKEND_CHOICES as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend: expected one of ${BACKEND_CHOICES.join(", ")}, got "${backend}"`);
  }
  const mounts = (v.mount ?? []).map((m) => {
    try {
      return parseMount(m);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  const out: WorkerArgs = {
    databaseUrl: v["database-url"] ?? (env.DATABASE_URL || undefined),
    backend: backend as BackendChoice,
    mounts,
    maxJobs: positiveInt("max-jobs", v["max-jobs"] ?? "32"),
    leaseSeconds: positiveInt("lease-seconds", v["lease-seconds"] ?? "60"),
    pollMs: positiveInt("poll-ms", v["poll-ms"] ?? "500"),
    exitWithStdin: v["exit-with-stdin"] ?? false,
    help: v.help ?? false,
  };
  if (v.threads !== undefined) out.threads = positiveInt("threads", v.threads);
  if (v["idle-exit"] !== undefined) out.idleExitSeconds = positiveInt("idle-exit", v["idle-exit"]);
  if (v["verifier-url"] !== undefined) out.verifierUrl = v["verifier-url"];
  if (v.run !== undefined) out.run = v.run;
  if (v.log !== undefined) out.logFile = v.log;
  if (out.databaseUrl === undefined && !out.help) {
    throw new UsageError(
      "--database-url URL (or DATABASE_URL) is required: workers and the trainer share a PostgreSQL server",
    );
  }
  return out;
}

/** Runs the CLI with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed: WorkerArgs;
  let verifier;
  try {
    parsed = parseWorkerArgs(args, { DATABASE_URL: Deno.env.get("DATABASE_URL") });
    verifier = parsed.verifierUrl === undefined
      ? undefined
      : httpVerifier({ url: parsed.verifierUrl, apiKey: Deno.env.get("OREAL_VERIFIER_API_KEY") });
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      console.error(`error: ${e.message}\n\n${WORKER_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    console.log(WORKER_USAGE);
    return 0;
  }
  // A log file of its own keeps a worker's lines when the process that started it (and read its output) is gone.
  const logFile = parsed.logFile === undefined
    ? null
    : await Deno.open(parsed.logFile, { create: true, append: true }).catch((e) => {
      console.error(`error: --log ${parsed.logFile}: ${(e as Error).message}`);
      return undefined;
    });
  if (logFile === undefined) return 1;
  const encoder = new TextEncoder();
  const say = (line: string) => {
    if (logFile === null) console.log(line);
    else logFile.writeSync(encoder.encode(`${new Date().toISOString()} ${line}\n`));
  };
  const queue = await openQueue({ databaseUrl: parsed.databaseUrl }).catch((e) => {
    console.error(`error: ${(e as Error).message}`);
    return null;
  });
  if (queue === null) return 1;
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) Deno.exit(130);
    stop.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", onSignal);
  if (parsed.exitWithStdin) watchStdin(stop);
  try {
    let runId: number | null = null;
    if (parsed.run !== undefined) {
      runId = await queue.runIdOf(parsed.run);
      if (runId === null) {
        console.error(`error: no run "${parsed.run}" in ${redactUrl(parsed.databaseUrl!)}`);
        return 1;
      }
    }
    const { backend, name } = await createBackend(parsed.backend, { threads: parsed.threads });
    const workerId = `${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 4)}`;
    say(`rollout worker ${workerId}: ${name} backend, queue at ${queue.target}`);
    const totals = await runWorker({
      queue,
      backend,
      workerId,
      leaseSeconds: parsed.leaseSeconds,
      maxJobs: parsed.maxJobs,
      pollMs: parsed.pollMs,
      runId: runId ?? undefined,
      verifier,
      mounts: parsed.mounts,
      signal: stop.signal,
      idleExitSeconds: parsed.idleExitSeconds,
      log: (line) => say(`[${workerId}] ${line}`),
    });
    say(
      `rollout worker ${workerId}: ${totals.jobs} jobs, ${totals.rollouts} rollouts, ` +
        `${totals.failures} failed attempts, ${totals.lostLeases} lost leases`,
    );
    return 0;
  } finally {
    await queue.close();
    logFile?.close();
  }
}

/** Aborts `stop` when standard input reaches its end (the parent process closed it or died). */
function watchStdin(stop: AbortController): void {
  (async () => {
    const buf = new Uint8Array(256);
    try {
      while ((await Deno.stdin.read(buf)) !== null) { /* the parent sends nothing; wait for the end */ }
    } catch { /* a closed or broken stdin ends the worker as well */ }
    stop.abort();
  })();
}

if (import.meta.main) Deno.exit(await main(Deno.args));
