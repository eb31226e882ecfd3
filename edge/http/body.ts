/**
 * Reading request bodies under a size limit and a time limit. A body larger than the limit is a 413 (before
 * any byte is read when its Content-Length says so); a body that ends before its Content-Length, a broken
 * chunked encoding or a dropped connection is a 400; a body that does not arrive in time is a 408. None of
 * these is a server error, so none is logged as one.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

/** Limits of one request body. */
export interface BodyLimits {
  /** Largest body, in bytes. */
  maxBytes: number;
  /** Time the whole body may take to arrive, in milliseconds. */
  timeMs: number;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, `the request body is larger than ${maxBytes} bytes`, { code: "body_too_large" });
}

/** Reads `request`'s whole body within `limits`; throws an {@linkcode ApiError} (413, 400 or 408) otherwise. */
export async function readBody(request: Request, limits: BodyLimits): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = (request.body as ReadableStream<Uint8Array<ArrayBuffer>>).getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ApiError(408, `the request body did not arrive within ${limits.timeMs} ms`, {
            code: "body_timeout",
          }),
        ),
      limits.timeMs,
    );
  });
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
      try {
        step = await Promise.race([reader.read(), late]);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw new ApiError(
          400,
          "the request body could not be read in full: it ended before its Content-Length, its chunked " +
            "encoding is broken, or the connection dropped",
          { code: "incomplete_body" },
        );
      }
      if (step.done) break;
      size += step.value.length;
      if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
      chunks.push(step.value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/** Middleware that reads the body with {@linkcode readBody} before the handler, which then reads it from memory. */
export function boundedBody(limits: BodyLimits): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.raw.body) {
      const body = await readBody(c.req.raw, limits);
      // A new Request from the parts (not from the old one, whose signal Deno would then flag as used).
      const { url, method, headers } = c.req.raw;
      c.req.raw = new Request(url, { method, headers, body });
    }
    await next();
  };
}
