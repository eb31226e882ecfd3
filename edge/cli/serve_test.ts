import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { readListeningUrl, waitUntilReady, writeToyModelDir } from "../../tests/edge_harness.ts";
import { DEFAULT_LIMITS } from "../app.ts";
import { DEFAULT_SERVER_LIMITS } from "../http/server.ts";
import { parseServeConfig } from "./serve.ts";

const noEnv = () => undefined;

Deno.test("parseServeConfig: defaults", () => {
  assertEquals(parseServeConfig([], noEnv), {
    modelDir: undefined,
    modelId: undefined,
    provider: "wasm",
    port: 8787,
    host: "127.0.0.1",
    concurrency: 1,
    decodeBatch: 16,
    inProcess: false,
    verifyWorkers: 2,
    inlineVerifyChars: 1024,
    apiKey: undefined,
    corsOrigins: [],
    limits: { ...DEFAULT_LIMITS },
    server: { ...DEFAULT_SERVER_LIMITS },
  });
});

Deno.test("parseServeConfig: flags and environment", () => {
  const env: Record<string, string> = {
    OREAL_API_KEY: " k ",
    OREAL_CORS_ORIGINS: "https://a.example, https://b.example",
  };
  const c = parseServeConfig(
    [
      "--model",
      "runs/m",
      "--port",
      "0",
      "--host",
      "0.0.0.0",
      "--provider",
      "webgpu",
      "--max-tokens",
      "64",
      "--max-batch",
      "8",
      "--in-process",
      "--verify-workers",
      "3",
      "--decode-batch",
      "4",
      "--inline-verify-chars",
      "0",
    ],
    (name) => env[name],
  );
  assertEquals([c.modelDir, c.port, c.host, c.provider, c.apiKey], ["runs/m", 0, "0.0.0.0", "webgpu", "k"]);
  assertEquals(c.corsOrigins, ["https://a.example", "https://b.example"]);
  assertEquals(c.decodeBatch, 4);
  assertEquals(c.inlineVerifyChars, 0);
  assertEquals([c.limits.maxTokensCap, c.limits.maxBatchItems, c.inProcess, c.verifyWorkers], [
    64,
    8,
    true,
    3,
  ]);
});

Deno.test("parseServeConfig: bad flags are clear errors", () => {
  assertThrows(() => parseServeConfig(["--port", "x"], noEnv), Error, "--port must be an integer");
  assertThrows(() => parseServeConfig(["--port", "70000"], noEnv), Error, "at most 65535");
  assertThrows(() => parseServeConfig(["--provider", "cuda"], noEnv), Error, "wasm or webgpu");
  assertThrows(() => parseServeConfig(["--max-tokens", "0"], noEnv), Error, "--max-tokens");
  assertThrows(() => parseServeConfig(["--bogus"], noEnv), Error);
});

Deno.test("serve: runs with the task's narrow permissions and serves a model folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge_serve_" });
  await writeToyModelDir(`${dir}/toy`);
  const task = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url))).tasks
    .serve as string;
  const flags = task.split(/\s+/).filter((a) => a.startsWith("--allow-"));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...flags,
      new URL("./serve.ts", import.meta.url).pathname,
      "--model",
      `${dir}/toy`,
      "--port",
      "0",
    ],
    env: { OREAL_API_KEY: "key", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream());
  try {
    const stdout = child.stdout.pipeThrough(new TextDecoderStream());
    const url = await readListeningUrl(stdout);
    const auth = { authorization: "Bearer key" };
    await waitUntilReady(url, 1200); // up to a minute: the decoder and verification workers load at once
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ model: "toy", prompt: "xy", temperature: 0 }),
    });
    assertEquals((await res.json()).choices[0].text, "z ");
    const verdict = await fetch(`${url}/v1/verify`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ gold: "7", response: "\\boxed{7}" }),
    });
    assertEquals((await verdict.json()).reward, 1);
    await stdout.cancel();
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await stderr.catch(() => {});
  }
});

Deno.test({
  name:
    "serve: under a low descriptor limit, connections past the cap get a 503 and the server keeps serving",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // A low descriptor limit for the server only (ulimit in the shell that execs it).
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        'ulimit -n 64 && exec "$@"',
        "serve",
        Deno.execPath(),
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-env",
        new URL("./serve.ts", import.meta.url).pathname,
        "--port",
        "0",
        "--verify-workers",
        "1",
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderrText = new Response(child.stderr).text();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream());
    const held: Deno.Conn[] = [];
    try {
      const url = await readListeningUrl(stdout);
      const port = Number(new URL(url).port);
      const verify = async () => {
        const res = await fetch(`${url}/v1/verify`, {
          method: "POST",
          body: JSON.stringify({ gold: "7", response: "\\boxed{7}" }),
        });
        return (await res.json()).reward;
      };
      assertEquals(await verify(), 1); // the one verification worker has loaded
      // More connections than the server has descriptors for: those past its cap are refused with a 503.
      for (let i = 0; i < 150; i++) held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      const probe = await Deno.connect({ hostname: "127.0.0.1", port }); // a new connection, not fetch's pool
      await probe.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertMatch(await new Response(probe.readable).text(), /^HTTP\/1\.1 503 [^]*too_many_connections/);
      for (const conn of held.splice(0)) conn.close();
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(await verify(), 1);
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise((r) => setTimeout(r, 200, false)),
      ]);
      assertEquals(exited, false);
    } finally {
      for (const conn of held) conn.close();
      await stdout.cancel().catch(() => {});
      // The server may have exited already (a failure above says why); killing it then throws.
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const status = await child.status;
      if (status.signal !== "SIGTERM") {
        console.error(`serve exited on its own: ${JSON.stringify(status)}\n${await stderrText}`);
      }
    }
    // Nothing crashed on the server's own thread. A verification worker that runs out of descriptors while it
    // loads dies with an uncaught error of its own ("Uncaught (in worker ...)"): the pool restarts it.
    const mainThread = (await stderrText).split("\n").filter((l) =>
      /Uncaught/.test(l) && !/in worker/.test(l)
    );
    assertEquals(mainThread, []);
  },
});
