/**
 * Errors in OpenAI's shape, `{ error: { message, type, param, code } }`, for every failure the edge service
 * reports. Handlers throw {@linkcode ApiError}; {@linkcode errorResponse} turns any thrown value into a JSON
 * response that never carries a stack trace.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";

/** The body of an error response, as the OpenAI API writes it. */
export interface ApiErrorBody {
  /** The error itself. */
  error: {
    /** A human-readable explanation. */
    message: string;
    /** The error class, e.g. `invalid_request_error`, `authentication_error`, `server_error`. */
    type: string;
    /** The request field at fault, or null. */
    param: string | null;
    /** A machine-readable code, or null. */
    code: string | null;
  };
}

/** HTTP statuses this service answers errors with. */
/** (499 is nginx's "client closed request": an answer nobody reads, for a request whose client left.) */
export type ErrorStatus = 400 | 401 | 404 | 405 | 408 | 413 | 415 | 429 | 499 | 500 | 503 | 504;

/** An error a handler throws to answer with a given status and OpenAI-shaped body. */
export class ApiError extends Error {
  /** The HTTP status. */
  readonly status: ErrorStatus;
  /** The error class written to `error.type`. */
  readonly type: string;
  /** The request field at fault. */
  readonly param: string | null;
  /** The machine-readable code. */
  readonly code: string | null;

  /** Creates the error; `type` defaults to `invalid_request_error`. */
  constructor(
    status: ErrorStatus,
    message: string,
    options: { type?: string; param?: string | null; code?: string | null } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = options.type ?? "invalid_request_error";
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }

  /** The JSON body for this error. */
  toBody(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Shorthand for a 400 about one request field. */
export function invalidParam(param: string, message: string, code = "invalid_value"): ApiError {
  return new ApiError(400, message, { param, code });
}

/** Maps any thrown value to an {@linkcode ApiError}: Hono's HTTP exceptions keep their status; others are 500. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const status = err.status as number;
    if (status === 413) return new ApiError(413, "request body is too large", { code: "body_too_large" });
    const known: ErrorStatus[] = [400, 401, 404, 405, 408, 413, 415, 429, 503, 504];
    const mapped = known.includes(status as ErrorStatus) ? status as ErrorStatus : 400;
    return new ApiError(mapped, err.message || "bad request", { code: "bad_request" });
  }
  return new ApiError(500, "internal server error", { type: "server_error", code: "internal_error" });
}

/** A JSON response for `err` (see {@linkcode toApiError}), with extra headers if given. */
export function errorResponse(err: unknown, headers: Record<string, string> = {}): Response {
  const apiError = toApiError(err);
  return new Response(JSON.stringify(apiError.toBody()), {
    status: apiError.status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}
