import { assert, assertEquals, assertMatch } from "@std/assert";
import { clientSignal } from "./departure.ts";
import { serveHttp, type ServerLimits } from "./server.ts";

const encoder = new TextEncoder();

async function withServer(
  limits: Partial<ServerLimits>,
  handler: (request: Request) => Response | Promise<Response>,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const server = serveHttp({ hostname: "127.0.0.1", port: 0, limits }, handler);
  try {
    await fn(server.addr.port);
  } finally {
    await server.shutdown();
  }
}

/** Connects, writes `text` (if any) and reads until the server closes; returns what came back. */
async function exchange(port: number, text: string, options: { halfClose?: boolean } = {}): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (text) await conn.write(encoder.encode(text));
  if (options.halfClose) await conn.closeWrite();
  return await new Response(conn.readable).text();
}

const echo = async (request: Request) =>
  new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`);

Deno.test("serveHttp: keep-alive and pipelined requests, Content-Length and chunked bodies, HEAD", async () => {
  await withServer({}, echo, async (port) => {
    const answer = await exchange(
      port,
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
        "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1;ext=1\r\nf\r\n0\r\n\r\n" +
        "HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const responses = answer.split(/(?=HTTP\/1\.1 )/);
    assertEquals(responses.length, 4);
    assertMatch(responses[0], /content-length: 11\r\n\r\nPOST \/a abc$/);
    assertMatch(responses[1], /\r\n\r\nPOST \/b def$/);
    assertMatch(responses[2], /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n$/);
    assertMatch(responses[3], /connection: close\r\n[^]*GET \/d $/);
    // fetch works too, with a streamed request body.
    const body = new ReadableStream({
      start(c) {
        c.enqueue(encoder.encode("xy"));
        c.close();
      },
    });
    const res = await fetch(`http://127.0.0.1:${port}/e`, { method: "POST", body });
    assertEquals(await res.text(), "POST /e xy");
  });
});

Deno.test("serveHttp: malformed or ambiguous requests are 400s and close the connection", async () => {
  await withServer({}, echo, async (port) => {
    for (
      const bad of [
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
        "GET / HTTP/1.1\r\n folded: header\r\n\r\n",
        "GET http://evil/ HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
        "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n".replace("GET", "G\u00e9T"),
      ]
    ) {
      assertMatch(await exchange(port, bad), /^HTTP\/1\.1 400 [^]*connection: close/, bad);
    }
    assertMatch(
      await exchange(port, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
      /^HTTP\/1\.1 501 /,
    );
  });
});

Deno.test("serveHttp: idle connections close, a slow head is a 408, an oversized head a 431", async () => {
  await withServer({ idleTimeMs: 150, headerTimeMs: 150, maxHeaderBytes: 256 }, echo, async (port) => {
    assertEquals(await exchange(port, ""), ""); // idle: closed without an answer
    // After one answered request, the kept-alive connection is closed once idle.
    assertMatch(await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 200 /);
    assertMatch(await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n"), /^HTTP\/1\.1 408 /);
    assertMatch(
      await exchange(port, `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(300)}\r\n\r\n`),
      /^HTTP\/1\.1 431 /,
    );
  });
});

Deno.test("serveHttp: past maxConnections a connection is answered 503; below it, served again", async () => {
  await withServer({ maxConnections: 2 }, echo, async (port) => {
    const held = [
      await Deno.connect({ hostname: "127.0.0.1", port }),
      await Deno.connect({ hostname: "127.0.0.1", port }),
    ];
    await new Promise((r) => setTimeout(r, 50));
    const refused = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assertMatch(refused, /^HTTP\/1\.1 503 [^]*too_many_connections/);
    for (const c of held) c.close();
    await new Promise((r) => setTimeout(r, 50));
    assertMatch(await exchange(port, "GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n"), /GET \/ok/);
  });
});

Deno.test("serveHttp: a response the client does not read is cut after writeTimeMs and its body cancelled", async () => {
  let cancelled: (reason: unknown) => void;
  const wasCancelled = new Promise((r) => cancelled = r);
  const chunk = new Uint8Array(64 * 1024);
  const endless = () =>
    new Response(
      new ReadableStream({
        pull: (c) => c.enqueue(chunk),
        cancel: (reason) => cancelled(reason),
      }, { highWaterMark: 0 }),
      { headers: { "content-type": "text/event-stream" } },
    );
  await withServer({ writeTimeMs: 200 }, endless, async (port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    // Never read: the socket buffers fill, a write blocks, and the server gives up on the client.
    const t0 = performance.now();
    await wasCancelled;
    assert(performance.now() - t0 < 10_000);
    conn.close();
  });
});

Deno.test("serveHttp: a client that closes its connection while its handler runs is recorded as gone", async () => {
  let started: () => void;
  const running = new Promise<void>((r) => started = r);
  let seen: (aborted: boolean) => void;
  const outcome = new Promise<boolean>((r) => seen = r);
  const slow = (request: Request) => {
    started();
    const signal = clientSignal(request);
    return new Promise<Response>((resolve) => {
      const timer = setTimeout(() => {
        seen(false);
        resolve(new Response("late"));
      }, 5000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        seen(true);
        resolve(new Response("gone"));
      });
    });
  };
  await withServer({}, slow, async (port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encoder.encode("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
    await running;
    conn.close();
    assertEquals(await outcome, true);
  });
  // A client that only half-closes after its request still gets the answer (the request may be marked gone).
  await withServer({}, echo, async (port) => {
    assertMatch(
      await exchange(port, "POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", { halfClose: true }),
      /^HTTP\/1\.1 200 [^]*POST \/h hi$/,
    );
  });
});
