// The migrations themselves run against PGlite and PostgreSQL in store_test.ts (one database per test file).
import { assert, assertEquals } from "@std/assert";
import { loadMigrations, sha256Hex, splitStatements } from "./migrate.ts";

Deno.test("splitStatements cuts on the breakpoint marker and drops empty parts", () => {
  assertEquals(
    splitStatements("create table a (x int);\n--> statement-breakpoint\n\n--> statement-breakpoint\nb"),
    [
      "create table a (x int);",
      "b",
    ],
  );
});

Deno.test("sha256Hex matches a known digest", async () => {
  assertEquals(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

Deno.test("loadMigrations reads the shipped SQL files in name order", async () => {
  const files = await loadMigrations();
  assertEquals(files[0].name, "0000_init.sql");
  assertEquals(files.map((f) => f.name), files.map((f) => f.name).toSorted());
  assert(files.every((f) => splitStatements(f.sql).length > 0));
});
