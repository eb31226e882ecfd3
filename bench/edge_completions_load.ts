/**
 * Completion tokens per second through the HTTP server: writes a random model with the `bench` preset's
 * shapes (character tokenizer) to a temporary folder, starts `edge/cli/serve.ts --model` on it (wasm
 * provider, decoders in workers unless `--in-process`) and sends `/v1/completions` requests of 64 tokens from `--clients`
 * concurrent clients for `--seconds`. The figure counts `usage.completion_tokens`.
 *
 *   deno run -A bench/edge_completions_load.ts [--seconds 10] [--clients 1] [--concurrency 1] [--in-process]
 *
 * @module
 */

import { benchFlags } from "./flags.ts";
import { readListeningUrl, waitUntilReady } from "../tests/edge_harness.ts";
import { writeQwen2ModelDir } from "../tests/edge_qwen2_model.ts";

const { values } = benchFlags("Run: deno run -A bench/edge_completions_load.ts [flags]", {
  seconds: { type: "string", arg: "S", help: "length of the run (default 10)" },
  clients: { type: "string", arg: "N", help: "concurrent clients (default 1)" },
  concurrency: { type: "string", arg: "N", help: "the server's decoder workers (default 1)" },
  "in-process": { type: "boolean", help: "decode on the server's thread instead of in workers" },
});
const seconds = Number(values.seconds ?? 10);
const clients = Number(values.clients ?? 1);
const concurrency = Number(values.concurrency ?? 1);
const inProcess = values["in-process"] ?? false;

const dir = await Deno.makeTempDir({ prefix: "edge_tokens_" });
await writeQwen2ModelDir(`${dir}/tiny`);
const serve = new URL("../edge/cli/serve.ts", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-env",
    serve,
    "--model",
    `${dir}/tiny`,
    "--port",
    "0",
    "--concurrency",
    `${concurrency}`,
    ...(inProcess ? ["--in-process"] : []),
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
try {
  const url = await readListeningUrl(child.stdout.pipeThrough(new TextDecoderStream()));
  await waitUntilReady(url, 1200); // up to a minute for the workers to load the model
  const body = (seed: number) =>
    JSON.stringify({
      model: "tiny",
      prompt: "Q: what is 12 + 30?\nA:",
      max_tokens: 64,
      temperature: 1,
      seed,
    });
  const once = async (seed: number) => {
    const res = await fetch(`${url}/v1/completions`, { method: "POST", body: body(seed) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(JSON.stringify(json));
    return json.usage.completion_tokens as number;
  };
  await once(0); // warm up
  let tokens = 0, requests = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; performance.now() < end; i++) {
      tokens += await once(c * 100_000 + i);
      requests++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  console.log(
    `completions (tiny Qwen2 shapes, wasm, ${
      inProcess ? "in-process" : `${concurrency} worker(s)`
    }, ${clients} client(s)): ` +
      `${(tokens / elapsed).toFixed(1)} tokens/s, ${requests} requests, ${tokens} tokens in ${
        elapsed.toFixed(1)
      } s`,
  );
} finally {
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(dir, { recursive: true });
}
