/**
 * What the store's command-line tools share: the `--database-url` / `--data-dir` flags (with `DATABASE_URL` as
 * the fallback for the URL), argument and integer flag parsing, opening the store and finding a run, and a
 * runner that turns known errors into a one-line message and an exit status instead of a stack trace.
 * @module
 */
import { type FlagTable, HELP_FLAG, parseFlags, UsageError, usageText } from "../../core/cli/mod.ts";
import { StoreConnectError } from "./connect.ts";
import { DEFAULT_DATA_DIR, openStore, type OpenStoreOptions, type Store } from "./store.ts";
import type { RunRecord } from "./types.ts";
import { StoreInputError } from "./validate.ts";

/** The flags every store CLI accepts (with `--help`), for `parseFlags` and the generated usage. */
export const STORE_FLAGS = {
  "database-url": {
    type: "string",
    arg: "URL",
    help: "PostgreSQL URL (default: $DATABASE_URL; when neither is set, PGlite is used)",
  },
  "data-dir": { type: "string", arg: "DIR", help: `PGlite data folder (default: ${DEFAULT_DATA_DIR})` },
  schema: { type: "string", arg: "NAME", help: "PostgreSQL schema of the tables (default: public)" },
  ...HELP_FLAG,
} as const satisfies FlagTable;

/** The usage text of a store CLI: its `usage` line and description, its own flags, then {@linkcode STORE_FLAGS}. */
export function storeUsage(usage: string, own: FlagTable): string {
  return usageText(usage, { ...own, ...STORE_FLAGS });
}

export { UsageError };

/** The URL to use: the flag when given, else a non-empty `DATABASE_URL`, else undefined (PGlite). */
export function resolveDatabaseUrl(flag: string | undefined): string | undefined {
  if (flag !== undefined && flag !== "") return flag;
  const env = Deno.env.get("DATABASE_URL");
  return env === undefined || env === "" ? undefined : env;
}

/** The parsed values of {@linkcode STORE_FLAGS} that choose the store. */
export interface StoreFlagValues {
  "database-url"?: string;
  "data-dir"?: string;
  schema?: string;
}

/** Store options from the parsed {@linkcode STORE_FLAGS}. */
export function storeOptionsFromFlags(flags: StoreFlagValues): OpenStoreOptions {
  return {
    databaseUrl: resolveDatabaseUrl(flags["database-url"]),
    dataDir: flags["data-dir"] ?? DEFAULT_DATA_DIR,
    schema: flags.schema,
  };
}

/**
 * Parses a store CLI's `args` against {@linkcode STORE_FLAGS} plus the CLI's own flags (no positionals); returns
 * the flag values. A bad command line is a {@linkcode UsageError}.
 */
export function parseStoreArgs<const O extends FlagTable>(args: readonly string[], own: O) {
  return parseFlags(args, { ...STORE_FLAGS, ...own }).values;
}

/** Opens the store the flags choose, calls `body` with it and closes it afterwards (also when `body` throws). */
export async function withStore<R>(flags: StoreFlagValues, body: (store: Store) => Promise<R>): Promise<R> {
  const store = await openStore(storeOptionsFromFlags(flags));
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** The run with id or name `ref`; an unknown run is a {@linkcode UsageError} naming the store. */
export async function requireRun(store: Store, ref: string): Promise<RunRecord> {
  const run = await store.findRun(ref);
  if (run === null) throw new UsageError(`no run "${ref}" in ${store.target}`);
  return run;
}

/** Parses a flag that must be a non-negative integer; undefined stays undefined. */
export function integerFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) {
    throw new UsageError(`--${name} expects a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

/**
 * Runs a CLI body and returns the exit status: 0 on success, 2 on a usage error (printed with `usage`), 1 on a
 * store error (one line), 0 quietly when stdout was closed early (e.g. piped into `head`).
 */
export async function runCli(usage: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${usage}`);
      return 2;
    }
    if (error instanceof Deno.errors.BrokenPipe) return 0;
    if (error instanceof StoreConnectError || error instanceof StoreInputError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** Writes text lines to stdout in chunks (one write per call), so large outputs are not one write per line. */
export class LineWriter {
  readonly #encoder = new TextEncoder();
  readonly #out: WritableStreamDefaultWriter<Uint8Array>;
  #pending: string[] = [];
  #size = 0;

  /** Writes to `stream` (default: stdout). */
  constructor(stream: WritableStream<Uint8Array> = Deno.stdout.writable) {
    this.#out = stream.getWriter();
  }

  /** Queues one line (a newline is added), flushing once 64 KiB are waiting. */
  async line(text: string): Promise<void> {
    this.#pending.push(text);
    this.#size += text.length + 1;
    if (this.#size >= 65_536) await this.flush();
  }

  /** Writes what is queued. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const chunk = this.#encoder.encode(this.#pending.join("\n") + "\n");
    this.#pending = [];
    this.#size = 0;
    await this.#out.write(chunk);
  }

  /** Flushes and closes the stream. */
  async close(): Promise<void> {
    await this.flush();
    await this.#out.close();
  }
}
