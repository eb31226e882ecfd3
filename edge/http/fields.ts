/**
 * Small readers for fields of a parsed JSON request. Each throws a 400 {@linkcode ApiError} naming the field
 * (`param`) when the value has the wrong type or range; `undefined` and `null` count as absent.
 *
 * @module
 */

import { invalidParam } from "./errors.ts";

/** A JSON object as a record; throws when `value` is not a plain object. */
export function asObject(value: unknown, param: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidParam(param, `${param} must be a JSON object`, "invalid_type");
  }
  return value as Record<string, unknown>;
}

/** True when the field is absent (undefined or null). */
function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** A required string field. */
export function requiredString(obj: Record<string, unknown>, key: string, param = key): string {
  const value = obj[key];
  if (absent(value)) throw invalidParam(param, `${param} is required`, "missing_required_parameter");
  if (typeof value !== "string") throw invalidParam(param, `${param} must be a string`, "invalid_type");
  return value;
}

/** An optional string field. */
export function optionalString(obj: Record<string, unknown>, key: string, param = key): string | undefined {
  const value = obj[key];
  if (absent(value)) return undefined;
  if (typeof value !== "string") throw invalidParam(param, `${param} must be a string`, "invalid_type");
  return value;
}

/** An optional boolean field. */
export function optionalBoolean(obj: Record<string, unknown>, key: string, param = key): boolean | undefined {
  const value = obj[key];
  if (absent(value)) return undefined;
  if (typeof value !== "boolean") throw invalidParam(param, `${param} must be a boolean`, "invalid_type");
  return value;
}

/** An optional finite number in [min, max]. */
export function optionalNumber(
  obj: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  param = key,
): number | undefined {
  const value = obj[key];
  if (absent(value)) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalidParam(param, `${param} must be a number`, "invalid_type");
  }
  if (value < min || value > max) throw invalidParam(param, `${param} must be between ${min} and ${max}`);
  return value;
}

/** An optional integer in [min, max]; `code` names the error when it is above `max`. */
export function optionalInteger(
  obj: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  param = key,
  overCode = "invalid_value",
): number | undefined {
  const value = obj[key];
  if (absent(value)) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidParam(param, `${param} must be an integer`, "invalid_type");
  }
  if (value < min) throw invalidParam(param, `${param} must be at least ${min}`);
  if (value > max) throw invalidParam(param, `${param} must be at most ${max}`, overCode);
  return value;
}
