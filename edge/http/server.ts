/**
 * An HTTP/1.1 server over `Deno.listen` that guards itself against its clients, for `deno task serve`.
 * `Deno.serve` has no timeouts and no connection cap, and its accept loop ends (and, unhandled, the process
 * exits) when the process runs out of file descriptors. This server:
 *
 * - closes a connection that sends nothing for `idleTimeMs` (before its first request or between requests);
 * - answers 408 and closes when a request's head takes longer than `headerTimeMs`, and 431 when it is larger
 *   than `maxHeaderBytes` (the body's own time limit is the app's, see `http/body.ts`);
 * - cuts a connection whose response write stays blocked for `writeTimeMs` (a client that stopped reading),
 *   cancelling the response body so that whatever feeds it stops;
 * - answers 503 and closes when `maxConnections` are open (keep it below the descriptor limit; `serve` does),
 *   and if the process does run out of descriptors it closes idle keep-alive connections, answers the waiting
 *   connection 503 through a descriptor it holds in reserve, and keeps accepting, instead of exiting.
 *
 * Requests are parsed strictly: one Content-Length or `Transfer-Encoding: chunked` (both is a 400), no
 * obsolete line folding, a method token and an origin-form target; anything else is a 400 and a closed
 * connection. Responses go out whole with a Content-Length, except server-sent events
 * (`text/event-stream`), which are sent chunked as they are produced.
 *
 * @module
 */

import { DeadlineSweep } from "./deadlines.ts";
import { Departure, trackDeparture } from "./departure.ts";

/** Limits of the server. */
export interface ServerLimits {
  /** Most connections open at once; more are answered 503 and closed. */
  maxConnections: number;
  /** A connection with no request under way is closed after this long, in milliseconds. */
  idleTimeMs: number;
  /** A request's head (request line and headers) must arrive within this long, in milliseconds. */
  headerTimeMs: number;
  /** Largest request head, in bytes. */
  maxHeaderBytes: number;
  /** A response write blocked for this long (the client does not read) cuts the connection, in milliseconds. */
  writeTimeMs: number;
}

/** The default limits. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxConnections: 512,
  idleTimeMs: 30_000,
  headerTimeMs: 10_000,
  maxHeaderBytes: 16 * 1024,
  writeTimeMs: 30_000,
});

/** Where and how to listen. */
export interface ServeHttpOptions {
  /** Host to listen on. */
  hostname: string;
  /** Port (0 picks a free one). */
  port: number;
  /** Limits; missing ones take {@linkcode DEFAULT_SERVER_LIMITS}. */
  limits?: Partial<ServerLimits>;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A running server. */
export interface HttpServer {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting, closes every connection and resolves when the accept loop has ended. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

const CRLF2 = new Uint8Array([13, 10, 13, 10]);
const LATE = Symbol("late");
/** Most 503 refusals written at once (each holds a descriptor; `serve` keeps 32 spare below its cap). */
const REFUSALS_IN_FLIGHT = 8;
const INTERNAL_ERROR = JSON.stringify({
  error: { message: "internal server error", type: "server_error", param: null, code: "internal_error" },
});
const LATIN1 = new TextDecoder("latin1");
const ENCODER = new TextEncoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOST = /^[A-Za-z0-9.\-:[\]]{1,255}$/;
const REASONS: Record<number, string> = {
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** A request the parser refuses: answered with `status` and the connection closed. */
class ProtocolError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A plain JSON error response in OpenAI's shape, as raw bytes, for answers given outside the app. */
function rawError(status: number, message: string, code: string): Uint8Array {
  const body = JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } });
  return ENCODER.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${ENCODER.encode(body).length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = Math.max(0, from); i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Reads from a connection into one growing buffer of bytes received but not yet used. At most one read is
 * under way at a time: {@linkcode ConnReader.fill} while one is pending waits for that one (the server reads
 * ahead while a handler runs, to notice a client that leaves).
 */
class ConnReader {
  #buffer = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #pending: Promise<boolean> | undefined;
  readonly #conn: Deno.Conn;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  fill(): Promise<boolean> {
    this.#pending ??= this.#read().finally(() => this.#pending = undefined);
    return this.#pending;
  }

  async #read(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#buffer.length - this.#end < 4096) {
      // Move what is left to the front, into a larger buffer when it is more than half full.
      if (this.buffered * 2 > this.#buffer.length) {
        const next = new Uint8Array(this.#buffer.length * 2);
        next.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = next;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** Position of `needle` in the buffered bytes from `from`, or -1. */
  find(needle: Uint8Array, from = 0): number {
    return indexOf(this.#buffer.subarray(this.#start, this.#end), needle, from);
  }

  /** Removes and returns (a copy of) the first `n` buffered bytes. */
  take(n: number): Uint8Array<ArrayBuffer> {
    const out = this.#buffer.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** Removes the first `n` buffered bytes and returns them decoded as Latin-1. */
  takeText(n: number): string {
    const text = LATIN1.decode(this.#buffer.subarray(this.#start, this.#start + n));
    this.#start += n;
    return text;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

interface ParsedHead {
  method: string;
  target: string;
  /** Header lines as name (as sent) and value pairs, in order. */
  headers: [string, string][];
  /** The Host header when it is a plausible host name, or undefined. */
  host: string | undefined;
  /** True when the client sent `Expect: 100-continue`. */
  expectsContinue: boolean;
  keepAlive: boolean;
  bodyKind: "none" | "length" | "chunked";
  length: number;
}

const OWS = /^[ \t]+|[ \t]+$/g;

function parseHead(text: string): ParsedHead {
  const lines = text.split("\r\n");
  const [method, target, version, ...extra] = lines[0].split(" ");
  if (extra.length > 0 || !method || !TOKEN.test(method) || !target || !version) {
    throw new ProtocolError(400, "malformed request line");
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new ProtocolError(400, "unsupported HTTP version");
  }
  if (!target.startsWith("/") && target !== "*") {
    throw new ProtocolError(400, "the request target must be a path");
  }
  const headers: [string, string][] = [];
  let connection = "", host: string | undefined, expect = "";
  let te: string | undefined, cl: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0 || line[0] === " " || line[0] === "\t") {
      throw new ProtocolError(400, "malformed header line");
    }
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new ProtocolError(400, "malformed header name");
    const value = line.slice(colon + 1).replace(OWS, "");
    headers.push([name, value]);
    // Names that repeat are joined as Headers would join them ("a, b"), which the checks below refuse.
    const join = (prev: string | undefined) => prev === undefined ? value : `${prev}, ${value}`;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === "host") host = join(host);
        break;
      case 6:
        if (name.toLowerCase() === "expect") expect = join(expect || undefined);
        break;
      case 10:
        if (name.toLowerCase() === "connection") connection = join(connection || undefined);
        break;
      case 14:
        if (name.toLowerCase() === "content-length") cl = join(cl);
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") te = join(te);
        break;
    }
  }
  connection = connection.toLowerCase();
  const keepAlive = version === "HTTP/1.1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  const common = {
    method,
    target,
    headers,
    host: host !== undefined && HOST.test(host) ? host : undefined,
    expectsContinue: expect.toLowerCase() === "100-continue",
    keepAlive,
  };
  if (te !== undefined) {
    if (cl !== undefined) throw new ProtocolError(400, "both Content-Length and Transfer-Encoding");
    if (te.toLowerCase() !== "chunked") {
      throw new ProtocolError(501, "only chunked transfer encoding is supported");
    }
    return { ...common, bodyKind: "chunked", length: 0 };
  }
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) throw new ProtocolError(400, "malformed Content-Length");
    const length = Number(cl);
    return { ...common, bodyKind: length > 0 ? "length" : "none", length };
  }
  return { ...common, bodyKind: "none", length: 0 };
}

/**
 * The request body as a stream read from the connection; `done` tells whether it was read to its end, and
 * `onDone` is called when it is.
 */
function bodyStream(
  reader: ConnReader,
  head: ParsedHead,
  onDone: () => void,
): { stream: ReadableStream<Uint8Array>; done: () => boolean } {
  let finished = false;
  let left = head.length;
  const fail = () => new TypeError("the request body ended before it was complete");
  const fillOrFail = async () => {
    if (!(await reader.fill())) throw fail();
  };
  // Chunked decoding state: bytes left in the current chunk, or -1 before a chunk-size line.
  let chunkLeft = -1;
  const CRLF = new Uint8Array([13, 10]);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (head.bodyKind === "length") {
        if (reader.buffered === 0) await fillOrFail();
        const piece = reader.take(Math.min(left, reader.buffered));
        left -= piece.length;
        controller.enqueue(piece);
        if (left === 0) {
          finished = true;
          controller.close();
          onDone();
        }
        return;
      }
      for (;;) {
        if (chunkLeft === -1) {
          let end = reader.find(CRLF);
          while (end < 0) {
            if (reader.buffered > 1024) throw new TypeError("malformed chunk size");
            await fillOrFail();
            end = reader.find(CRLF);
          }
          const line = reader.takeText(end + 2).slice(0, end).split(";")[0].trim();
          if (!/^[0-9A-Fa-f]{1,8}$/.test(line)) throw new TypeError("malformed chunk size");
          chunkLeft = parseInt(line, 16);
          if (chunkLeft === 0) {
            // Trailers (ignored) up to the empty line.
            for (;;) {
              let lineEnd = reader.find(CRLF);
              while (lineEnd < 0) {
                if (reader.buffered > 8192) throw new TypeError("malformed trailer");
                await fillOrFail();
                lineEnd = reader.find(CRLF);
              }
              reader.take(lineEnd + 2);
              if (lineEnd === 0) break;
            }
            finished = true;
            controller.close();
            onDone();
            return;
          }
        }
        if (chunkLeft > 0) {
          if (reader.buffered === 0) await fillOrFail();
          const piece = reader.take(Math.min(chunkLeft, reader.buffered));
          chunkLeft -= piece.length;
          controller.enqueue(piece);
          return;
        }
        while (reader.buffered < 2) await fillOrFail();
        const crlf = reader.take(2);
        if (crlf[0] !== 13 || crlf[1] !== 10) throw new TypeError("malformed chunk end");
        chunkLeft = -1;
      }
    },
  }, { highWaterMark: 0 });
  return { stream, done: () => finished };
}

/** Serves `handler` on `options.hostname:options.port` with the guards described in the module doc. */
export function serveHttp(
  options: ServeHttpOptions,
  handler: (request: Request) => Response | Promise<Response>,
): HttpServer {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const defaultHost = `${addr.hostname}:${addr.port}`;
  const open = new Set<Deno.Conn>();
  const idle = new Set<Deno.Conn>();
  // Every time limit of every connection, checked by one timer (a timer per read and write costs more than
  // the rest of a small request).
  const shortest = Math.min(limits.idleTimeMs, limits.headerTimeMs, limits.writeTimeMs);
  const sweep = new DeadlineSweep(Math.min(250, Math.max(5, shortest / 8)));
  let stopping = false;
  let lastFdWarning = 0;

  const close = (conn: Deno.Conn) => {
    open.delete(conn);
    idle.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };

  /** Runs `work`, closing `conn` if it takes longer than `ms` (so a pending read or write fails). */
  const within = async <T>(conn: Deno.Conn, ms: number, work: Promise<T>, onTimeout?: () => void) => {
    const deadline = sweep.add(ms, () => {
      onTimeout?.();
      try {
        conn.close();
      } catch { /* already closed */ }
    });
    try {
      return await work;
    } finally {
      sweep.remove(deadline);
    }
  };

  /** Resolves with `LATE` after `ms`, or with `work`'s value if that comes first. */
  const orLate = <T>(ms: number, work: Promise<T>) =>
    new Promise<T | typeof LATE>((resolve, reject) => {
      const deadline = sweep.add(ms, () => resolve(LATE));
      work.then(resolve, reject).finally(() => sweep.remove(deadline));
    });

  // Refusals being written, each holding a descriptor: at most REFUSALS_IN_FLIGHT, the accept loop waits for one
  // to end before it takes the next connection (the rest wait in the backlog). Unbounded, a burst of connections
  // past the cap ran the process out of descriptors, which made it shed its idle connections.
  let refusing = 0;
  let refusalEnded: (() => void) | null = null;
  const refuseCounted = (conn: Deno.Conn) => {
    refusing++;
    refuse(conn).finally(() => {
      refusing--;
      refusalEnded?.();
      refusalEnded = null;
    });
  };

  const refuse = async (conn: Deno.Conn) => {
    try {
      await within(
        conn,
        1000,
        writeAll(
          conn,
          rawError(503, "the server has too many open connections; retry later", "too_many_connections"),
        ),
      );
    } catch { /* the client is gone */ }
    try {
      conn.close();
    } catch { /* already closed */ }
  };

  const writeResponse = async (
    conn: Deno.Conn,
    scratch: Uint8Array,
    head: ParsedHead,
    response: Response,
    keepAlive: boolean,
  ) => {
    const status = response.status;
    let text = `HTTP/1.1 ${status} ${response.statusText || REASONS[status] || "Status"}\r\n`;
    let eventStream = false, textual = false;
    for (const [name, value] of response.headers) {
      if (name === "content-length" || name === "transfer-encoding" || name === "connection") continue;
      if (name === "content-type") {
        eventStream = value.startsWith("text/event-stream");
        textual = value.startsWith("application/json") || value.startsWith("text/plain");
      }
      text += `${name}: ${value}\r\n`;
    }
    text += keepAlive ? "" : "connection: close\r\n";
    const write = (bytes: Uint8Array) => within(conn, limits.writeTimeMs, writeAll(conn, bytes));
    // (`response.body` makes a stream of a body held in memory: only touch it to stream or to drop it.)
    if (head.method === "HEAD" || status === 204 || status === 304) {
      await response.body?.cancel();
      await write(ENCODER.encode(`${text}content-length: 0\r\n\r\n`));
      return;
    }
    if (!eventStream) {
      // Head and body in one write. A JSON or plain-text body (UTF-8 text) is encoded straight into the
      // connection's scratch buffer when it fits: small responses then allocate no buffers at all.
      let bytes: Uint8Array;
      if (textual) {
        const body = await response.text();
        // Room for the head: header values are Latin-1, at most 2 bytes a character in UTF-8.
        const room = 2 * text.length + 64;
        if (room + 3 * body.length <= scratch.length) {
          const size = ENCODER.encodeInto(body, scratch.subarray(room)).written;
          const headSize = ENCODER.encodeInto(`${text}content-length: ${size}\r\n\r\n`, scratch).written;
          scratch.copyWithin(headSize, room, room + size);
          await write(scratch.subarray(0, headSize + size));
          return;
        }
        bytes = ENCODER.encode(body);
      } else {
        bytes = new Uint8Array(await response.arrayBuffer());
      }
      const headBytes = ENCODER.encode(`${text}content-length: ${bytes.length}\r\n\r\n`);
      const all = new Uint8Array(headBytes.length + bytes.length);
      all.set(headBytes);
      all.set(bytes, headBytes.length);
      await write(all);
      return;
    }
    const body = response.body;
    if (!body) {
      await write(ENCODER.encode(`${text}content-length: 0\r\n\r\n`));
      return;
    }
    const reader = body.getReader();
    try {
      await write(ENCODER.encode(`${text}transfer-encoding: chunked\r\n\r\n`));
      for (;;) {
        const step = await reader.read();
        if (step.done) break;
        if (step.value.length === 0) continue;
        const size = ENCODER.encode(`${step.value.length.toString(16)}\r\n`);
        const chunk = new Uint8Array(size.length + step.value.length + 2);
        chunk.set(size);
        chunk.set(step.value, size.length);
        chunk.set([13, 10], size.length + step.value.length);
        await write(chunk);
      }
      await write(ENCODER.encode("0\r\n\r\n"));
    } catch (err) {
      reader.cancel(err).catch(() => {});
      throw err;
    }
  };

  /** Reads the next request's head; undefined when the client left or went quiet (nothing to answer). */
  const readHead = async (conn: Deno.Conn, reader: ConnReader): Promise<ParsedHead | undefined> => {
    // Wait for the next request (idle), then for its whole head.
    if (reader.buffered === 0) {
      idle.add(conn);
      let timedOut = false;
      const more = await within(conn, limits.idleTimeMs, reader.fill(), () => timedOut = true)
        .catch(() => false);
      idle.delete(conn);
      if (!more || timedOut) return undefined;
    }
    let headEnd = reader.find(CRLF2);
    if (headEnd < 0) {
      const deadline = performance.now() + limits.headerTimeMs;
      while (headEnd < 0) {
        if (reader.buffered > limits.maxHeaderBytes) {
          throw new ProtocolError(431, `the request head is larger than ${limits.maxHeaderBytes} bytes`);
        }
        // On time-out the read stays pending (the connection is still open to send the 408 on).
        const more = await orLate(
          Math.max(1, deadline - performance.now()),
          reader.fill().catch(() => false),
        );
        if (more === LATE) {
          throw new ProtocolError(408, `the request head did not arrive within ${limits.headerTimeMs} ms`);
        }
        if (!more) return undefined;
        headEnd = reader.find(CRLF2);
      }
    }
    if (headEnd > limits.maxHeaderBytes) {
      throw new ProtocolError(431, `the request head is larger than ${limits.maxHeaderBytes} bytes`);
    }
    return parseHead(reader.takeText(headEnd + 4).slice(0, headEnd));
  };

  const handle = async (conn: Deno.Conn) => {
    const reader = new ConnReader(conn);
    const scratch = new Uint8Array(8 * 1024);
    try {
      for (;;) {
        const head = await readHead(conn, reader);
        if (!head) return;
        // The client going away (end of stream or a failed read) while the handler runs is recorded as its
        // departure (see departure.ts). The read-ahead starts once the body has been read; it is the next
        // request's read.
        const departure = new Departure();
        const watch = () =>
          reader.fill().then(
            (more) =>
              more || departure.leave(new DOMException("the client closed the connection", "AbortError")),
            () => departure.leave(new DOMException("the connection failed", "AbortError")),
          );
        let body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | undefined;
        let bodyDone = () => true;
        if (head.bodyKind === "length" && reader.buffered >= head.length) {
          // The whole body is here already (small requests): hand it over as bytes, not as a stream.
          body = reader.take(head.length);
        } else if (head.bodyKind !== "none") {
          const stream = bodyStream(reader, head, watch);
          body = stream.stream;
          bodyDone = stream.done;
          if (head.expectsContinue) {
            await within(
              conn,
              limits.writeTimeMs,
              writeAll(conn, ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n")),
            );
          }
        }
        let request: Request;
        try {
          request = new Request(
            `http://${head.host ?? defaultHost}${head.target === "*" ? "/" : head.target}`,
            {
              method: head.method,
              headers: head.headers,
              body,
            },
          );
        } catch {
          throw new ProtocolError(400, "the request line or a header is not valid");
        }
        trackDeparture(request, departure);
        if (bodyDone()) watch();
        let response: Response;
        try {
          response = await handler(request);
        } catch (err) {
          console.error("edge: unexpected error in the request handler:", err);
          response = new Response(INTERNAL_ERROR, {
            status: 500,
            headers: { "content-type": "application/json; charset=utf-8" },
          });
        }
        // A body the handler left unread would be parsed as the next request: close instead.
        const keepAlive = head.keepAlive && !stopping && bodyDone() && !departure.left;
        await writeResponse(conn, scratch, head, response, keepAlive);
        if (!keepAlive) return;
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        await within(conn, 1000, writeAll(conn, rawError(err.status, err.message, "bad_request")))
          .catch(() => {});
      }
      // Anything else is the connection failing or being cut (timeouts): nothing to answer.
    } finally {
      close(conn);
    }
  };

  const isOutOfDescriptors = (err: unknown) =>
    err instanceof Error && /too many open files|os error 2[34]\b/i.test(err.message);

  // One descriptor held in reserve (where the process may open /dev/null): when the process runs out, it is
  // given up to accept the waiting connection and answer it 503 at once, instead of leaving it in the backlog.
  const openReserve = () => {
    try {
      return Deno.openSync("/dev/null");
    } catch {
      return null;
    }
  };
  let reserve = openReserve();
  const closeReserve = () => {
    reserve?.close();
    reserve = null;
  };

  const acceptLoop = async () => {
    for (;;) {
      while (refusing >= REFUSALS_IN_FLIGHT) await new Promise<void>((r) => refusalEnded = r);
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (stopping || err instanceof Deno.errors.BadResource) return;
        if (isOutOfDescriptors(err)) {
          // Shed idle keep-alive connections to get descriptors back, and try again shortly.
          for (const c of [...idle].slice(0, Math.max(1, idle.size >> 1))) close(c);
          if (performance.now() - lastFdWarning > 10_000) {
            lastFdWarning = performance.now();
            console.error("edge: out of file descriptors; closing idle connections and retrying");
          }
          if (reserve) {
            closeReserve();
            try {
              await refuse(await listener.accept());
            } catch { /* still out of descriptors, or the listener closed */ }
            if (!stopping) reserve = openReserve();
            continue;
          }
        } else {
          console.error("edge: accepting a connection failed:", err instanceof Error ? err.message : err);
        }
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (stopping) {
        conn.close();
        return;
      }
      if (open.size >= limits.maxConnections) {
        refuseCounted(conn);
        continue;
      }
      open.add(conn);
      // Small writes (SSE events) must go out at once, not wait for the previous one's ACK.
      (conn as Deno.TcpConn).setNoDelay?.(true);
      handle(conn);
    }
  };

  options.onListen?.(addr);
  const finished = acceptLoop();
  return {
    addr,
    get connections() {
      return open.size;
    },
    async shutdown() {
      stopping = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const conn of [...open]) close(conn);
      await finished;
      closeReserve();
    },
    finished,
  };
}
