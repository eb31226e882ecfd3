/**
 * Optional bearer-token authentication: when a key is set, requests must carry `Authorization: Bearer <key>`,
 * otherwise they get a 401 in OpenAI's error shape. The comparison takes the same time wherever the strings
 * differ.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

/** True when `a` and `b` are equal, in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % Math.max(y.length, 1)] ?? 0);
  return diff === 0;
}

/** Middleware that requires `Authorization: Bearer <apiKey>`. */
export function bearerAuth(apiKey: string): MiddlewareHandler {
  if (apiKey.length === 0) throw new Error("bearerAuth: the API key must not be empty");
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) {
      throw new ApiError(401, "missing API key: send an Authorization: Bearer <key> header", {
        type: "authentication_error",
        code: "missing_api_key",
      });
    }
    if (!timingSafeEqual(match[1].trim(), apiKey)) {
      throw new ApiError(401, "incorrect API key provided", {
        type: "authentication_error",
        code: "invalid_api_key",
      });
    }
    await next();
  };
}
