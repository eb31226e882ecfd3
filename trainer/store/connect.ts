/**
 * Opens the database behind the store: PostgreSQL through the `postgres` driver when a URL is given, otherwise
 * PGlite (PostgreSQL compiled to WASM) with its data in a folder. Both come back as the same Drizzle type.
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { type Schema, schema } from "./schema.ts";
import { checkSchemaName } from "./validate.ts";
import { pathExists } from "../fs/path_exists.ts";

/** The Drizzle database type both drivers are used through. */
export type StoreDatabase = PgDatabase<PgQueryResultHKT, Schema>;

/** Which driver a connection uses. */
export type Driver = "pglite" | "postgres";

/** PGlite data folder value that keeps the database in memory (gone on close). */
export const IN_MEMORY = "memory://";

/** How to reach the database. */
export interface ConnectOptions {
  /** A `postgres://` URL; when absent, PGlite is used. */
  databaseUrl?: string;
  /** PGlite data folder, created when missing, or {@linkcode IN_MEMORY}. Ignored with a URL. */
  dataDir: string;
  /** Schema the tables live in (put first on the search path). */
  schema: string;
  /** Seconds to wait for a PostgreSQL connection before giving up. */
  connectTimeoutSeconds: number;
  /**
   * A tarball of a fresh PGlite data folder (PGlite's `dumpDataDir`) that a NEW PGlite database (in memory, or a
   * folder without one) starts from instead of running initdb, which takes seconds; an existing folder ignores
   * it. The tests pass one to open many fresh databases quickly.
   */
  pgliteTemplate?: Blob;
}

/** An open database. */
export interface Connection {
  /** Drizzle handle with the store's schema. */
  db: StoreDatabase;
  /** The driver in use. */
  driver: Driver;
  /** Where the data is, for messages: the URL without its password, or the PGlite folder. */
  target: string;
  /** Closes the connection (PGlite flushes its folder). */
  close(): Promise<void>;
}

/** The database could not be opened or reached; the message says which one and why. */
export class StoreConnectError extends Error {
  /** Creates the error; `cause` is the driver's error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreConnectError";
  }
}

/** A PostgreSQL URL with its password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparsable database URL>";
  }
}

/** Opens the database named by `options` and checks that it answers. */
export async function connect(options: ConnectOptions): Promise<Connection> {
  checkSchemaName(options.schema);
  return options.databaseUrl === undefined ? await connectPglite(options) : await connectPostgres(options);
}

async function connectPostgres(options: ConnectOptions): Promise<Connection> {
  const url = options.databaseUrl as string;
  const target = redactUrl(url);
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreConnectError(`database URL ${target} must start with postgres:// or postgresql://`);
  }
  let client: postgres.Sql | undefined;
  try {
    client = postgres(url, {
      connect_timeout: options.connectTimeoutSeconds,
      max: 4,
      onnotice: () => {},
      connection: { search_path: options.schema },
    });
    await withDeadline(client`select 1`, options.connectTimeoutSeconds);
  } catch (error) {
    await client?.end({ timeout: 0 });
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreConnectError(`cannot reach PostgreSQL at ${target}: ${reason}`, { cause: error });
  }
  const db = drizzlePostgres(client, { schema }) as unknown as StoreDatabase;
  return { db, driver: "postgres", target, close: () => client.end({ timeout: 5 }) };
}

/** Whether PGlite data folder `dir` (or {@linkcode IN_MEMORY}) holds no database yet: opening it runs initdb. */
export async function holdsNoDatabase(dir: string): Promise<boolean> {
  return dir === IN_MEMORY || !(await pathExists(`${dir}/PG_VERSION`));
}

async function connectPglite(options: ConnectOptions): Promise<Connection> {
  const dir = options.dataDir;
  let client: PGlite;
  let lock: Deno.FsFile | null = null;
  try {
    if (dir !== IN_MEMORY) {
      await Deno.mkdir(dir, { recursive: true });
      lock = await lockFolder(dir);
    }
    const fresh = await holdsNoDatabase(dir);
    client = new PGlite(dir, fresh && options.pgliteTemplate ? { loadDataDir: options.pgliteTemplate } : {});
    await client.waitReady;
    if (options.schema !== "public") {
      await client.exec(`set search_path to ${options.schema}`);
    }
  } catch (error) {
    lock?.close();
    if (error instanceof StoreConnectError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreConnectError(`cannot open the PGlite database in ${dir}: ${reason}`, { cause: error });
  }
  const db = drizzlePglite(client, { schema }) as unknown as StoreDatabase;
  const close = async () => {
    try {
      await client.close();
    } finally {
      lock?.close();
    }
  };
  return { db, driver: "pglite", target: dir, close };
}

/** How long a PGlite folder that another process holds is waited for. */
const LOCK_WAIT_MS = 1000;

/**
 * Takes an exclusive lock on PGlite folder `dir` (a `flock` on `dir/oreal.lock`, released when the file is closed
 * or the process ends, even by SIGKILL): PGlite serves one process at a time, and two processes writing one
 * folder would corrupt it. A folder still held after {@linkcode LOCK_WAIT_MS} is an error.
 */
async function lockFolder(dir: string): Promise<Deno.FsFile> {
  const file = await Deno.open(`${dir}/oreal.lock`, { read: true, write: true, create: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const held = await Promise.race([
    file.lock(true).then(() => true, () => false),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), LOCK_WAIT_MS)),
  ]);
  clearTimeout(timer);
  if (!held) {
    file.close();
    throw new StoreConnectError(
      `the PGlite database in ${dir} is open in another process (a training run?): PGlite serves one process ` +
        `at a time; wait for it to finish, or use PostgreSQL (DATABASE_URL) to share the store`,
    );
  }
  return file;
}

/**
 * Awaits `work` for at most `seconds`. The driver's own `connect_timeout` does not cover a server that accepts
 * the TCP connection and then closes it or never answers (postgres.js then reconnects in a loop), so the
 * first query is bounded here as well.
 */
async function withDeadline<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  work.catch(() => {}); // once the deadline wins, a late rejection of `work` must not go unhandled
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
