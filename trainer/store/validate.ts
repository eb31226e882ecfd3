/**
 * Input checks of the store. Every failure is a {@linkcode StoreInputError} whose `field` names the offending
 * value (e.g. `rollouts[3].reward`), raised before anything is written.
 * @module
 */
import { FINISH_REASONS, type Json, RUN_STATUSES, type RunStatus } from "./schema.ts";
import type { CheckpointInput, NewRun, ProblemRow, RolloutRow, StoredStepMetrics } from "./types.ts";

/** Size limits on stored text, in UTF-16 code units (JavaScript string length). */
export interface StoreLimits {
  /** A rollout's response text. */
  maxResponseChars: number;
  /** A problem's prompt and gold answer. */
  maxPromptChars: number;
  /** Names, ids, sources, methods, statuses, extracted answers, paths. */
  maxShortTextChars: number;
  /** A config, metrics or evaluation object, measured as JSON text. */
  maxJsonChars: number;
}

/** The limits used unless `openStore({ limits })` overrides some. */
export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = {
  maxResponseChars: 262_144,
  maxPromptChars: 65_536,
  maxShortTextChars: 4_096,
  maxJsonChars: 1_048_576,
};

/** A value given to the store is not acceptable; `field` says which one. */
export class StoreInputError extends Error {
  /** Path of the offending value, e.g. `rollouts[3].reward`. */
  readonly field: string;
  /** Creates the error; the message starts with the field. */
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = "StoreInputError";
    this.field = field;
  }
}

/** A valid unquoted PostgreSQL schema name: lower-case letters, digits and `_`, at most 63 characters. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws a {@linkcode StoreInputError} unless `name` is a plain lower-case PostgreSQL identifier. */
export function checkSchemaName(name: string): void {
  if (!SCHEMA_NAME.test(name)) {
    throw new StoreInputError("schema", `"${name}" is not a plain lower-case PostgreSQL identifier`);
  }
}

/** Checks that `value` is a string of at most `max` characters without NUL (PostgreSQL rejects NUL in text). */
export function checkText(field: string, value: unknown, max: number, allowEmpty = false): string {
  if (typeof value !== "string") {
    throw new StoreInputError(field, `expected a string, got ${describe(value)}`);
  }
  if (!allowEmpty && value.length === 0) throw new StoreInputError(field, "must not be empty");
  if (value.length > max) {
    throw new StoreInputError(field, `text of ${value.length} characters is over the limit of ${max}`);
  }
  if (value.includes("\u0000")) throw new StoreInputError(field, "contains a NUL character");
  return value;
}

/** Checks that `value` is an integer in [min, 2^31 - 1] (a PostgreSQL integer). */
export function checkInteger(field: string, value: unknown, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 2_147_483_647) {
    throw new StoreInputError(field, `expected an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/** Checks that `value` is a finite number. */
export function checkFinite(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new StoreInputError(field, `expected a finite number, got ${describe(value)}`);
  }
  return value;
}

/** Checks that `value` is a boolean. */
export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new StoreInputError(field, `expected a boolean, got ${describe(value)}`);
  }
  return value;
}

/** Checks a run status word. */
export function checkRunStatus(field: string, value: unknown): RunStatus {
  if (!RUN_STATUSES.includes(value as RunStatus)) {
    throw new StoreInputError(field, `expected one of ${RUN_STATUSES.join(", ")}, got ${describe(value)}`);
  }
  return value as RunStatus;
}

/**
 * Checks that `value` is a plain JSON object whose numbers are all finite and whose strings have no NUL, and
 * that its JSON text is at most `max` characters. The field of a bad leaf is named in full (`metrics.losses.kl`).
 */
export function checkJsonObject(field: string, value: unknown, max: number): { [key: string]: Json } {
  if (!isPlainObject(value)) throw new StoreInputError(field, `expected an object, got ${describe(value)}`);
  checkJsonValue(field, value);
  const size = JSON.stringify(value).length;
  if (size > max) throw new StoreInputError(field, `JSON of ${size} characters is over the limit of ${max}`);
  return value as { [key: string]: Json };
}

function checkJsonValue(field: string, value: unknown): void {
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "number") {
    checkFinite(field, value);
  } else if (typeof value === "string") {
    if (value.includes("\u0000")) throw new StoreInputError(field, "contains a NUL character");
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkJsonValue(`${field}[${i}]`, item));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) checkJsonValue(`${field}.${key}`, item);
    }
  } else {
    throw new StoreInputError(field, `not a JSON value: ${describe(value)}`);
  }
}

/** Checks a new run. */
export function checkNewRun(run: NewRun, limits: StoreLimits): void {
  checkText("name", run.name, limits.maxShortTextChars);
  checkText("method", run.method, limits.maxShortTextChars);
  checkJsonObject("config", run.config, limits.maxJsonChars);
  if (run.codeRevision !== undefined && run.codeRevision !== null) {
    checkText("codeRevision", run.codeRevision, limits.maxShortTextChars);
  }
}

/** Checks a batch of problems (also that no `(source, id)` appears twice). */
export function checkProblems(rows: readonly ProblemRow[], limits: StoreLimits): void {
  const seen = new Set<string>();
  rows.forEach((p, i) => {
    const at = `problems[${i}]`;
    checkText(`${at}.source`, p.source, limits.maxShortTextChars);
    checkText(`${at}.id`, p.id, limits.maxShortTextChars);
    checkText(`${at}.prompt`, p.prompt, limits.maxPromptChars);
    checkText(`${at}.gold`, p.gold, limits.maxPromptChars, true);
    if (p.split !== undefined && p.split !== null) {
      checkText(`${at}.split`, p.split, limits.maxShortTextChars);
    }
    if (p.level !== undefined && p.level !== null) {
      checkText(`${at}.level`, p.level, limits.maxShortTextChars);
    }
    const key = JSON.stringify([p.source, p.id]);
    if (seen.has(key)) throw new StoreInputError(`${at}`, `problem (${p.source}, ${p.id}) appears twice`);
    seen.add(key);
  });
}

/** Checks the rollouts of one step (also that no `(source, problem id, sample index)` appears twice). */
export function checkRollouts(rows: readonly RolloutRow[], limits: StoreLimits): void {
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const at = `rollouts[${i}]`;
    checkText(`${at}.problemSource`, r.problemSource, limits.maxShortTextChars);
    checkText(`${at}.problemId`, r.problemId, limits.maxShortTextChars);
    checkInteger(`${at}.sampleIndex`, r.sampleIndex);
    checkInteger(`${at}.policyVersion`, r.policyVersion);
    checkText(`${at}.response`, r.response, limits.maxResponseChars, true);
    checkInteger(`${at}.tokenCount`, r.tokenCount);
    if (!FINISH_REASONS.includes(r.finishReason)) {
      throw new StoreInputError(
        `${at}.finishReason`,
        `expected one of ${FINISH_REASONS.join(", ")}, got ${describe(r.finishReason)}`,
      );
    }
    checkText(`${at}.verifierStatus`, r.verifierStatus, limits.maxShortTextChars);
    if (r.extractedAnswer !== null) {
      checkText(`${at}.extractedAnswer`, r.extractedAnswer, limits.maxShortTextChars, true);
    }
    checkBoolean(`${at}.correct`, r.correct);
    checkFinite(`${at}.reward`, r.reward);
    if (r.advantage !== null) checkFinite(`${at}.advantage`, r.advantage);
    checkBoolean(`${at}.kept`, r.kept);
    const key = JSON.stringify([r.problemSource, r.problemId, r.sampleIndex]);
    if (seen.has(key)) {
      throw new StoreInputError(
        at,
        `rollout (${r.problemSource}, ${r.problemId}, sample ${r.sampleIndex}) appears twice in the step`,
      );
    }
    seen.add(key);
  });
}

/** Checks a step's metrics and returns them typed as the JSON object they are. */
export function checkMetrics(metrics: StoredStepMetrics, limits: StoreLimits): { [key: string]: Json } {
  return checkJsonObject("metrics", metrics, limits.maxJsonChars);
}

/** Checks a checkpoint record. */
export function checkCheckpoint(c: CheckpointInput, limits: StoreLimits): void {
  checkInteger("runId", c.runId, 1);
  checkInteger("step", c.step);
  checkText("path", c.path, limits.maxShortTextChars);
  if (typeof c.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(c.sha256)) {
    throw new StoreInputError("sha256", `expected 64 lower-case hex digits, got ${describe(c.sha256)}`);
  }
  checkJsonObject("evaluation", c.evaluation, limits.maxJsonChars);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value.length > 40 ? `"${value.slice(0, 40)}..."` : `"${value}"`;
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value;
}
