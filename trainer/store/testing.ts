/**
 * Helpers for the store's tests (used by `*_test.ts` files only): sample rows, and the list of backends the
 * shared suites run on (PGlite always, PostgreSQL when `DATABASE_URL` is set), each in a throw-away schema.
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { connect } from "./connect.ts";
import type { ProblemRow, RolloutRow } from "./types.ts";

let template: Promise<Blob> | null = null;

/**
 * A fresh PGlite data folder as a tarball, for `connect`'s `pgliteTemplate` option: a database started
 * from it skips initdb (about 4 s on a 2-core machine, 0.8 s from the tarball). Made once per machine and PGlite
 * build (the file name hashes the package's resolved location, which names its version) in the temporary
 * folder, written under a temporary name and renamed, so concurrent test files never read half a file.
 */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const key = await sha256Hex(import.meta.resolve("@electric-sql/pglite"));
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const path = `${tmp}/oreal-test-pglite-${key.slice(0, 16)}.tar`;
    try {
      return new Blob([await Deno.readFile(path)]);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const pg = new PGlite("memory://");
    await pg.waitReady;
    const tarball = await pg.dumpDataDir("none");
    await pg.close();
    const partial = `${path}.${crypto.randomUUID()}`;
    await Deno.writeFile(partial, new Uint8Array(await tarball.arrayBuffer()));
    await Deno.rename(partial, path);
    return tarball;
  })();
  return template;
}

/**
 * Creates a fresh PGlite database in folder `dir` from {@linkcode pgliteTemplate}, so a test's CLI subprocess
 * opening `--data-dir dir` finds a database instead of running initdb itself.
 */
export async function seedPgliteDir(dir: string): Promise<void> {
  const db = await connect({
    dataDir: dir,
    schema: "public",
    connectTimeoutSeconds: 5,
    pgliteTemplate: await pgliteTemplate(),
  });
  await db.close();
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A backend a test suite runs on. */
export interface TestBackend {
  /** `pglite` or `postgres`. */
  name: "pglite" | "postgres";
  /** PostgreSQL URL, absent for PGlite (which then runs in memory). */
  databaseUrl?: string;
  /** A fresh schema name for this test file (always `public` for in-memory PGlite). */
  schema: string;
  /** Drops what the suite created (the schema on PostgreSQL). */
  cleanup(): Promise<void>;
}

/** PGlite in memory, plus PostgreSQL in a unique schema when `DATABASE_URL` is set. */
export function testBackends(prefix: string): TestBackend[] {
  const list: TestBackend[] = [{ name: "pglite", schema: "public", cleanup: () => Promise.resolve() }];
  const url = Deno.env.get("DATABASE_URL");
  if (url) {
    const schema = uniqueSchema(prefix);
    list.push({ name: "postgres", databaseUrl: url, schema, cleanup: () => dropSchema(url, schema) });
  }
  return list;
}

/** A schema name that no other test run uses: `prefix_` + time + random digits. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** Drops a schema and everything in it from the PostgreSQL database at `url`. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await client.unsafe(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** `count` problems of source `source`, ids `p0`, `p1`, ... */
export function sampleProblems(source: string, count: number): ProblemRow[] {
  return Array.from({ length: count }, (_, i) => ({
    source,
    id: `p${i}`,
    prompt: `What is ${i} + ${i}?`,
    gold: String(2 * i),
    split: "train",
    level: i % 2 === 0 ? "1" : null,
  }));
}

/**
 * Rollouts over `problems` with `samples` samples each; sample 0 of every problem is correct, the others wrong.
 * `responseChars` pads the response text to that length.
 */
export function sampleRollouts(
  problems: readonly ProblemRow[],
  samples: number,
  responseChars = 0,
): RolloutRow[] {
  return problems.flatMap((p) =>
    Array.from({ length: samples }, (_, k) => {
      const correct = k === 0;
      const answer = correct ? p.gold : `${k}${p.gold}`;
      const text = `Adding gives \\boxed{${answer}}.`;
      return {
        problemSource: p.source,
        problemId: p.id,
        sampleIndex: k,
        policyVersion: 3,
        response: text.padEnd(responseChars, " ."),
        tokenCount: 7 + k,
        finishReason: k === samples - 1 && !correct ? "length" : "stop",
        verifierStatus: correct ? "correct" : "wrong",
        extractedAnswer: answer,
        correct,
        reward: correct ? 1 : 0,
        advantage: correct ? 0.75 : -0.25,
        kept: k < 2,
      } satisfies RolloutRow;
    })
  );
}
