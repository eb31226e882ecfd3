import { assertEquals, assertThrows } from "@std/assert";
import { readListeningUrl, waitUntilReady, writeToyModelDir } from "../../tests/edge_harness.ts";
import { DEFAULT_LIMITS } from "../app.ts";
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
    inProcess: false,
    verifyWorkers: 2,
    apiKey: undefined,
    corsOrigins: [],
    limits: { ...DEFAULT_LIMITS },
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
    ],
    (name) => env[name],
  );
  assertEquals([c.modelDir, c.port, c.host, c.provider, c.apiKey], ["runs/m", 0, "0.0.0.0", "webgpu", "k"]);
  assertEquals(c.corsOrigins, ["https://a.example", "https://b.example"]);
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
    await waitUntilReady(url);
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
