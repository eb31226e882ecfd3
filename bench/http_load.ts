/**
 * A closed-loop HTTP/1.1 load generator over raw TCP, for the edge load benchmarks: `connections` keep-alive
 * connections each send one request, read its whole response (Content-Length bodies only) and send the next,
 * for `seconds`. The requests are encoded once, so the generator's own cost per request is a write, a read and
 * a header scan: far less than `fetch`'s, which on a 2-core machine would measure the client, not the server.
 *
 * @module
 */

import { percentile } from "./edge_servers.ts";

/** What one load run sends. */
export interface LoadSpec {
  /** Base URL of the server, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Request path, e.g. `/v1/verify`. */
  path: string;
  /** `GET` or `POST`. */
  method: "GET" | "POST";
  /** JSON body of a POST. */
  body?: string;
  /** Connections, each with one request in flight. */
  connections: number;
  /** How long to run. */
  seconds: number;
  /** A response whose body lacks this text counts as an error (besides any status other than 200). */
  expect?: string;
}

/** The figures of one load run. */
export interface LoadResult {
  /** Responses received. */
  requests: number;
  /** Wall time of the run, in seconds. */
  seconds: number;
  /** Responses per second. */
  requestsPerSecond: number;
  /** Median latency, in milliseconds. */
  p50Ms: number;
  /** 99th percentile latency, in milliseconds. */
  p99Ms: number;
  /** Largest latency, in milliseconds. */
  maxMs: number;
  /** Responses that were not 200 or lacked the expected text, and connections that failed. */
  errors: number;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** The bytes of one request. */
function encodeRequest(spec: LoadSpec, host: string): Uint8Array {
  const body = spec.body === undefined ? "" : spec.body;
  const length = ENCODER.encode(body).length;
  const head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: ${host}\r\n` +
    (spec.method === "POST" ? `content-type: application/json\r\ncontent-length: ${length}\r\n` : "") +
    "\r\n";
  return ENCODER.encode(head + body);
}

/** Index of CRLF CRLF in `buf[from..end)`, or -1. */
function headEnd(buf: Uint8Array, end: number): number {
  for (let i = 3; i < end; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** The Content-Length of a response head (ASCII), or 0. */
function contentLength(head: string): number {
  const lower = head.toLowerCase();
  const at = lower.indexOf("\r\ncontent-length:");
  if (at < 0) return 0;
  return parseInt(lower.slice(at + 17, lower.indexOf("\r\n", at + 17)).trim(), 10);
}

/** One connection's loop: request, whole response, again, until `end`. */
async function connectionLoop(
  spec: LoadSpec,
  request: Uint8Array,
  end: number,
  latencies: number[],
): Promise<number> {
  const url = new URL(spec.url);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  conn.setNoDelay(true);
  let errors = 0;
  let buf = new Uint8Array(1 << 16);
  let filled = 0;
  try {
    while (performance.now() < end) {
      const t0 = performance.now();
      let written = 0;
      while (written < request.length) written += await conn.write(request.subarray(written));
      let bodyStart = -1, total = -1, status = 0;
      for (;;) {
        if (bodyStart < 0) {
          bodyStart = headEnd(buf, filled);
          if (bodyStart >= 0) {
            const head = DECODER.decode(buf.subarray(0, bodyStart));
            status = Number(head.slice(9, 12));
            total = bodyStart + contentLength(head);
          }
        }
        if (total >= 0 && filled >= total) break;
        if (filled === buf.length) {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
        const n = await conn.read(buf.subarray(filled));
        if (n === null) throw new Error("the server closed the connection");
        filled += n;
      }
      latencies.push(performance.now() - t0);
      if (status !== 200) errors++;
      else if (spec.expect && !DECODER.decode(buf.subarray(bodyStart, total)).includes(spec.expect)) errors++;
      buf.copyWithin(0, total, filled);
      filled -= total;
    }
  } catch {
    errors++;
  } finally {
    conn.close();
  }
  return errors;
}

/** Runs the load and returns its figures. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const request = encodeRequest(spec, url.host);
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + spec.seconds * 1000;
  const errors = await Promise.all(
    Array.from({ length: spec.connections }, () => connectionLoop(spec, request, end, latencies)),
  );
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    errors: errors.reduce((a, b) => a + b, 0),
  };
}
