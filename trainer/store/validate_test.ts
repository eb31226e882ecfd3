import { assertEquals, assertThrows } from "@std/assert";
import {
  checkCheckpoint,
  checkInteger,
  checkJsonObject,
  checkNewRun,
  checkProblems,
  checkRollouts,
  checkText,
  DEFAULT_STORE_LIMITS,
  StoreInputError,
} from "./validate.ts";
import { sampleProblems, sampleRollouts } from "./testing.ts";

function fieldOf(fn: () => unknown): string {
  return (assertThrows(fn, StoreInputError) as StoreInputError).field;
}

Deno.test("checkText enforces type, emptiness, the size limit and NUL", () => {
  assertEquals(checkText("f", "abc", 3), "abc");
  assertEquals(checkText("f", "", 3, true), "");
  assertThrows(() => checkText("f", "", 3), StoreInputError, "f: must not be empty");
  assertThrows(
    () => checkText("f", "abcd", 3),
    StoreInputError,
    "f: text of 4 characters is over the limit of 3",
  );
  assertThrows(() => checkText("f", 7, 3), StoreInputError, "expected a string, got 7");
  assertThrows(() => checkText("f", "a\u0000", 3), StoreInputError, "NUL");
});

Deno.test("checkInteger accepts PostgreSQL integers only", () => {
  assertEquals(checkInteger("n", 0), 0);
  assertEquals(checkInteger("n", 2_147_483_647), 2_147_483_647);
  for (const bad of [-1, 1.5, 2_147_483_648, NaN, "3"]) {
    assertEquals(fieldOf(() => checkInteger("n", bad)), "n");
  }
});

Deno.test("checkJsonObject names the path of a bad leaf and limits the size", () => {
  assertEquals(checkJsonObject("m", { a: [1, { b: null }], c: "x" }, 100), { a: [1, { b: null }], c: "x" });
  assertEquals(fieldOf(() => checkJsonObject("m", { a: [1, { b: Infinity }] }, 100)), "m.a[1].b");
  assertEquals(fieldOf(() => checkJsonObject("m", { d: new Date() }, 100)), "m.d");
  assertEquals(fieldOf(() => checkJsonObject("m", [1], 100)), "m");
  assertThrows(
    () => checkJsonObject("m", { s: "x".repeat(100) }, 50),
    StoreInputError,
    "over the limit of 50",
  );
});

Deno.test("checkRollouts names the rollout and field at fault", () => {
  const rows = sampleRollouts(sampleProblems("s", 2), 2);
  checkRollouts(rows, DEFAULT_STORE_LIMITS);
  const at = (i: number, patch: object) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r));
  assertEquals(
    fieldOf(() => checkRollouts(at(2, { reward: NaN }), DEFAULT_STORE_LIMITS)),
    "rollouts[2].reward",
  );
  assertEquals(
    fieldOf(() => checkRollouts(at(0, { correct: 1 }), DEFAULT_STORE_LIMITS)),
    "rollouts[0].correct",
  );
  assertEquals(
    fieldOf(() => checkRollouts(at(3, { problemId: "" }), DEFAULT_STORE_LIMITS)),
    "rollouts[3].problemId",
  );
  assertEquals(fieldOf(() => checkRollouts(at(1, { sampleIndex: 0 }), DEFAULT_STORE_LIMITS)), "rollouts[1]");
  const limits = { ...DEFAULT_STORE_LIMITS, maxShortTextChars: 8 };
  assertEquals(
    fieldOf(() => checkRollouts(at(0, { extractedAnswer: "123456789" }), limits)),
    "rollouts[0].extractedAnswer",
  );
});

Deno.test("checkProblems, checkNewRun and checkCheckpoint name their fields", () => {
  const problems = sampleProblems("s", 2);
  assertEquals(fieldOf(() => checkProblems([problems[0], problems[0]], DEFAULT_STORE_LIMITS)), "problems[1]");
  assertEquals(
    fieldOf(() => checkProblems([{ ...problems[1], gold: 3 as unknown as string }], DEFAULT_STORE_LIMITS)),
    "problems[0].gold",
  );
  assertEquals(
    fieldOf(() => checkNewRun({ name: "a", method: "", config: {} }, DEFAULT_STORE_LIMITS)),
    "method",
  );
  assertEquals(
    fieldOf(() => checkNewRun({ name: "a", method: "m", config: { x: NaN } }, DEFAULT_STORE_LIMITS)),
    "config.x",
  );
  const checkpoint = { runId: 1, step: 0, path: "p", sha256: "f".repeat(64), evaluation: {} };
  checkCheckpoint(checkpoint, DEFAULT_STORE_LIMITS);
  assertEquals(fieldOf(() => checkCheckpoint({ ...checkpoint, step: -1 }, DEFAULT_STORE_LIMITS)), "step");
  assertEquals(
    fieldOf(() => checkCheckpoint({ ...checkpoint, sha256: "F".repeat(64) }, DEFAULT_STORE_LIMITS)),
    "sha256",
  );
});
