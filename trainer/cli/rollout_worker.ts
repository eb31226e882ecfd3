/**
 * `deno task rollout-worker`: a rollout worker on this or another machine. It leases sampling jobs from the
 * PostgreSQL database a trainer run uses (`deno task train --external-workers` or `--rollout-workers N`), and
 * writes each job's verified responses in one transaction with its completion. See `--help`.
 * @module
 */
import { BACKEND_CHOICES, type BackendChoice, createBackend } from "../gpu/auto.ts";
import { redactUrl } from "../store/connect.ts";
import { httpVerifier } from "../workers/http_verifier.ts";
import { parseMount, type PathMount } from "../workers/policy.ts";
import { openQueue } from "../workers/queue.ts";
import { runWorker } from "../workers/worker.ts";

/** Usage text of `--help`. */
export const WORKER_USAGE = `Usage: deno task rollout-worker --database-url URL [flags]

Leases sampling jobs from the trainer's PostgreSQL database, samples K responses per job with the job's
policy version, verifies them and writes them back. Runs until interrupted (Ctrl-C finishes the current job).

  --database-url URL     the PostgreSQL server the trainer uses (default $DATABASE_URL); PGlite cannot
                         serve several processes
  --backend B            auto|webgpu|cpu (default auto)
  --threads N            CPU backend threads (default: the machine's cores)
  --verifier-url URL     verify with the edge verifier's POST /v1/verify at URL instead of in this process
                         (its bearer token from $OREAL_VERIFIER_API_KEY); problems with an answer form are
                         still verified here
  --run NAME|ID          serve only this run (default: every running run)
  --mount FROM=TO        the trainer's policy folders under FROM are under TO on this machine (repeatable)
  --max-jobs N           most jobs (prompts) sampled in one batch; idle workers of a run split a step's
                         jobs between them (default 32)
  --lease-seconds N      lease length; a job whose worker stops renewing is retried after it (default 60)
  --poll-ms N            wait between two polls of an empty queue (default 500)
  --idle-exit N          exit after N seconds without a job (default: never)
  --log FILE             append progress lines to FILE instead of printing them
  --exit-with-stdin      exit when standard input closes (the trainer's --rollout-workers uses it)
`;

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
}

/** Bad command-line input; the message names the flag. */
export class WorkerArgsError extends Error {
  override name = "WorkerArgsError";
}

function positiveInt(flag: string, raw: string): number {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) === 0) {
    throw new WorkerArgsError(`--${flag}: expected a positive integer, got "${raw}"`);
  }
  return Number(raw);
}

/** The flags that take a value. */
const VALUE_FLAGS = new Set([
  "database-url",
  "backend",
  "threads",
  "verifier-url",
  "run",
  "mount",
  "max-jobs",
  "lease-seconds",
  "poll-ms",
  "idle-exit",
  "log",
]);

/** Parses the worker's flags; `env` supplies `DATABASE_URL`. */
export function parseWorkerArgs(args: readonly string[], env: { DATABASE_URL?: string } = {}): WorkerArgs {
  const out: WorkerArgs = {
    backend: "auto",
    mounts: [],
    maxJobs: 32,
    leaseSeconds: 60,
    pollMs: 500,
    exitWithStdin: false,
    databaseUrl: env.DATABASE_URL,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new WorkerArgsError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (flag === "exit-with-stdin") {
      out.exitWithStdin = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new WorkerArgsError(`unknown flag --${flag}`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
        throw new WorkerArgsError(`--${flag} needs a value`);
      }
      value = args[++i];
    }
    switch (flag) {
      case "database-url":
        out.databaseUrl = value;
        break;
      case "backend":
        if (!(BACKEND_CHOICES as readonly string[]).includes(value)) {
          throw new WorkerArgsError(
            `--backend: expected one of ${BACKEND_CHOICES.join(", ")}, got "${value}"`,
          );
        }
        out.backend = value as BackendChoice;
        break;
      case "threads":
        out.threads = positiveInt(flag, value);
        break;
      case "verifier-url":
        out.verifierUrl = value;
        break;
      case "run":
        out.run = value;
        break;
      case "mount":
        try {
          out.mounts.push(parseMount(value));
        } catch (e) {
          throw new WorkerArgsError((e as Error).message);
        }
        break;
      case "max-jobs":
        out.maxJobs = positiveInt(flag, value);
        break;
      case "lease-seconds":
        out.leaseSeconds = positiveInt(flag, value);
        break;
      case "poll-ms":
        out.pollMs = positiveInt(flag, value);
        break;
      case "log":
        out.logFile = value;
        break;
      case "idle-exit":
        out.idleExitSeconds = positiveInt(flag, value);
        break;
    }
  }
  if (out.databaseUrl === undefined) {
    throw new WorkerArgsError(
      "--database-url URL (or DATABASE_URL) is required: workers and the trainer share a PostgreSQL server",
    );
  }
  return out;
}

/** Runs the CLI with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(WORKER_USAGE);
    return 0;
  }
  let parsed: WorkerArgs;
  let verifier;
  try {
    parsed = parseWorkerArgs(args, { DATABASE_URL: Deno.env.get("DATABASE_URL") });
    verifier = parsed.verifierUrl === undefined
      ? undefined
      : httpVerifier({ url: parsed.verifierUrl, apiKey: Deno.env.get("OREAL_VERIFIER_API_KEY") });
  } catch (e) {
    if (e instanceof WorkerArgsError || e instanceof RangeError) {
      console.error(`error: ${e.message}\n\n${WORKER_USAGE}`);
      return 2;
    }
    throw e;
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
