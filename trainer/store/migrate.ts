/**
 * A small migrator that behaves the same on PGlite and PostgreSQL: the SQL files of `migrations/` are applied
 * in name order, each once, all pending ones in ONE transaction, and recorded in a `_migrations` table with their
 * SHA-256 (a file edited after it was applied is an error, not a silent skip). A transaction-level advisory lock
 * serialises two processes that migrate the same schema at once.
 * @module
 */
import { sql } from "drizzle-orm";
import { migrationsTable } from "./schema.ts";
import { connect, type Connection, type ConnectOptions, type StoreDatabase } from "./connect.ts";
import { checkSchemaName } from "./validate.ts";

/** One migration file: its name (e.g. `0000_init.sql`) and its SQL text. */
export interface Migration {
  /** File name; migrations are applied in the order of their names. */
  name: string;
  /** SQL text; statements are separated by lines `--> statement-breakpoint`. */
  sql: string;
}

/** Marker line between two statements of a migration file (the drizzle-kit convention). */
export const STATEMENT_BREAKPOINT = "--> statement-breakpoint";

/** The folder of the migration files shipped with the store. */
export const MIGRATIONS_DIR: URL = new URL("./migrations/", import.meta.url);

/** Reads every `*.sql` file of `dir` (default: the store's own migrations), sorted by name. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".sql")) names.push(entry.name);
  }
  names.sort();
  return await Promise.all(
    names.map(async (name) => ({ name, sql: await Deno.readTextFile(new URL(name, dir)) })),
  );
}

/** Splits a migration into its statements (on {@linkcode STATEMENT_BREAKPOINT} lines), dropping empty ones. */
export function splitStatements(text: string): string[] {
  return text.split(STATEMENT_BREAKPOINT).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Hex SHA-256 of a string (UTF-8). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Applies the pending `migrations` to `schemaName` (which must already be first on the connection's
 * `search_path`; it is created when missing) and returns the names applied now. All pending files run in one
 * transaction: if any statement fails, nothing of this call stays and the error names the file.
 */
export async function migrate(
  db: StoreDatabase,
  schemaName: string,
  migrations: readonly Migration[],
): Promise<string[]> {
  checkSchemaName(schemaName);
  const hashed = await Promise.all(migrations.map(async (m) => ({ ...m, sha256: await sha256Hex(m.sql) })));
  return await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${"oreal_migrations:" + schemaName}))`);
    await tx.execute(sql.raw(`create schema if not exists ${schemaName}`));
    await tx.execute(sql.raw(
      `create table if not exists _migrations (name text primary key, sha256 text not null, ` +
        `applied_at timestamp with time zone not null default now())`,
    ));
    const applied = new Map(
      (await tx.select().from(migrationsTable)).map((row) => [row.name, row.sha256]),
    );
    const done: string[] = [];
    for (const m of hashed) {
      const previous = applied.get(m.name);
      if (previous !== undefined) {
        if (previous !== m.sha256) {
          throw new Error(`migration ${m.name} was edited after it was applied; add a new migration instead`);
        }
        continue;
      }
      for (const statement of splitStatements(m.sql)) {
        try {
          await tx.execute(sql.raw(statement));
        } catch (error) {
          throw new Error(`migration ${m.name} failed: ${errorMessage(error)}`, { cause: error });
        }
      }
      await tx.insert(migrationsTable).values({ name: m.name, sha256: m.sha256 });
      done.push(m.name);
    }
    return done;
  });
}

/** The message of an error, looking through drizzle's query wrapper to the driver's own message. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error && cause.message) return cause.message;
    return error.message;
  }
  return String(error);
}

/** Connects and brings the schema up to date; the connection is closed again if migrating fails. */
export async function connectMigrated(options: ConnectOptions): Promise<Connection> {
  const connection = await connect(options);
  try {
    await migrate(connection.db, options.schema, await loadMigrations());
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}
