/**
 * Reading request bodies under a size limit and a time limit. A body larger than the limit is a 413 (before
 * any byte is read when its Content-Length says so); a body that ends before its Content-Length, a broken
 * chunked encoding or a dropped connection is a 400; a body that does not arrive in time is a 408. None of
 * these is a server error, so none is logged as one.
 *
 * The body is read once, by {@linkcode boundedBody}, and kept beside the request for the handlers
 * ({@linkcode bufferedBody}); the time limits of all requests share one timer ({@linkcode DeadlineSweep}).
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { type Deadline, DeadlineSweep } from "./deadlines.ts";
import { ApiError } from "./errors.ts";

/** Limits of one request body. */
export interface BodyLimits {
  /** Largest body, in bytes. */
  maxBytes: number;
  /** Time the whole body may take to arrive, in milliseconds. */
  timeMs: number;
}

/** Body time limits are seconds long: checking them 20 times a second is precise enough. */
const SWEEP = new DeadlineSweep(50);

/** Bodies read by {@linkcode boundedBody}, by request. */
const BODIES = new WeakMap<Request, Uint8Array<ArrayBuffer>>();

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, `the request body is larger than ${maxBytes} bytes`, { code: "body_too_large" });
}

function late(timeMs: number): ApiError {
  return new ApiError(408, `the request body did not arrive within ${timeMs} ms`, { code: "body_timeout" });
}

const INCOMPLETE = "the request body could not be read in full: it ended before its Content-Length, its " +
  "chunked encoding is broken, or the connection dropped";

/** Reads the whole body as chunks, stopping once it exceeds `maxBytes`. */
async function readChunks(
  reader: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    size += step.value.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(step.value);
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

/**
 * Reads a body whose size the transport frames by its Content-Length (at most `maxBytes`): in one piece,
 * without a stream.
 */
async function readDeclared(
  request: Request,
  declared: string,
  limits: BodyLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  if (declared === "0") return new Uint8Array(0);
  let timedOut = false;
  let deadline: Deadline | undefined;
  const read = request.arrayBuffer();
  try {
    const buffer = await new Promise<ArrayBuffer>((resolve, reject) => {
      deadline = SWEEP.add(limits.timeMs, () => {
        timedOut = true;
        reject();
      });
      read.then(resolve, reject);
    });
    // Only a caller that built the request itself can send more than it declared.
    if (buffer.byteLength > limits.maxBytes) throw tooLarge(limits.maxBytes);
    return new Uint8Array(buffer);
  } catch (err) {
    if (timedOut) {
      // The read ends when the server closes the connection after the 408.
      read.catch(() => {});
      throw late(limits.timeMs);
    }
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, INCOMPLETE, { code: "incomplete_body" });
  } finally {
    SWEEP.remove(deadline);
  }
}

/** Reads `request`'s whole body within `limits`; throws an {@linkcode ApiError} (413, 400 or 408) otherwise. */
export async function readBody(request: Request, limits: BodyLimits): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (declared !== null) return await readDeclared(request, declared, limits);
  if (!request.body) return new Uint8Array(0);
  const reader = (request.body as ReadableStream<Uint8Array<ArrayBuffer>>).getReader();
  let timedOut = false;
  const deadline = SWEEP.add(limits.timeMs, () => {
    timedOut = true;
    // A pending read then ends (as the end of the body), and the time-out is reported below.
    reader.cancel().catch(() => {});
  });
  try {
    const body = await readChunks(reader, limits.maxBytes);
    if (timedOut) throw late(limits.timeMs);
    return body;
  } catch (err) {
    reader.cancel().catch(() => {});
    if (timedOut) throw late(limits.timeMs);
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, INCOMPLETE, { code: "incomplete_body" });
  } finally {
    SWEEP.remove(deadline);
  }
}

/**
 * Middleware that reads the body with {@linkcode readBody} before the handler, which then takes it from
 * {@linkcode bufferedBody} (the request's own body stream is used up).
 */
export function boundedBody(limits: BodyLimits): MiddlewareHandler {
  return async (c, next) => {
    // A GET or HEAD request has no body (`Request` refuses one).
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD") BODIES.set(c.req.raw, await readBody(c.req.raw, limits));
    await next();
  };
}

/** The body {@linkcode boundedBody} read for `request`, or undefined when it read none. */
export function bufferedBody(request: Request): Uint8Array<ArrayBuffer> | undefined {
  return BODIES.get(request);
}
