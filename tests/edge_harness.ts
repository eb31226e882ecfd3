/**
 * Helpers for the edge HTTP tests and load benchmarks: a toy model folder (char tokenizer + toy ONNX decoder), a
 * served instance of the edge app on a free loopback port, and waiting for a `serve.ts` subprocess to be up.
 *
 * @module
 */

import { createCharTokenizer } from "../core/tokenizer/mod.ts";
import { verify } from "../core/verify/mod.ts";
import { createApp, type EdgeOptions } from "../edge/app.ts";
import { serveHttp, type ServerLimits } from "../edge/http/server.ts";
import { buildToyModel, successorSpec, toyConfig } from "./edge_toy_model.ts";

/**
 * The toy tokenizer's alphabet. Ids: 0 pad, 1 eos, 2 <|im_start|>, 3 <|im_end|>, 4 unk, then "\n" = 5,
 * "a" = 6 ... "z" = 31, " " = 32.
 */
export const TOY_ALPHABET = "\nabcdefghijklmnopqrstuvwxyz ";

/** What the toy model continues every prompt with, greedily: from the letter after the last one, to the space. */
export function toyContinuation(lastChar: string): string {
  const i = TOY_ALPHABET.indexOf(lastChar);
  return TOY_ALPHABET.slice(i + 1);
}

/**
 * Writes a model folder in `dir`: greedy decoding continues "\n" → "a" → ... → "z" → " " → end of sequence
 * (specials continue with "a"), so a reply is always a run of the alphabet ending in a space.
 */
export async function writeToyModelDir(dir: string, maxPositions = 64): Promise<void> {
  const tokenizer = createCharTokenizer({ alphabet: TOY_ALPHABET });
  const v = tokenizer.vocabSize;
  const spec = successorSpec(v, maxPositions, (t) => t < 5 ? 6 : t === v - 1 ? tokenizer.eosId : t + 1);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/model.onnx`, buildToyModel(spec));
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(toyConfig(spec, tokenizer.eosId)));
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(tokenizer.toJSON()));
}

/**
 * Writes a slow toy model folder in `dir` (tens of ms a token) that never ends on its own: greedy decoding
 * cycles "a" → ... → "z" → "a", for tests of time limits, disconnects and scheduling.
 */
export async function writeSlowModelDir(dir: string): Promise<void> {
  const tokenizer = createCharTokenizer({ alphabet: TOY_ALPHABET });
  const spec = successorSpec(tokenizer.vocabSize, 512, (t) => t < 6 || t >= 31 ? 6 : t + 1);
  spec.busyWork = 256;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/model.onnx`, buildToyModel(spec));
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(toyConfig(spec, tokenizer.eosId)));
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(tokenizer.toJSON()));
}

/** A running edge server. */
export interface TestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Serves `createApp({ verify, ...options })` on 127.0.0.1 at a free port with the guarded HTTP server that
 * `deno task serve` uses (`serverLimits` for its connection limits and timeouts).
 */
export function startServer(
  options: Partial<EdgeOptions> = {},
  serverLimits: Partial<ServerLimits> = {},
): TestServer {
  const app = createApp({ verify, ...options });
  const server = serveHttp({ hostname: "127.0.0.1", port: 0, limits: serverLimits }, (r) => app.fetch(r));
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/**
 * Reads a `serve.ts` process's stdout (decoded) until its "listening on URL" line and returns the URL, releasing
 * the reader's lock (the caller may cancel the stream afterwards). Throws with the output so far when the stream
 * ends first (the server exited).
 */
export async function readListeningUrl(stdout: ReadableStream<string>): Promise<string> {
  const reader = stdout.getReader();
  let log = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited before listening: ${log}`);
      log += value;
      const url = /listening on (http:\/\/\S+)/.exec(log)?.[1];
      if (url) return url;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Polls `${url}/readyz` every 50 ms until it answers 200; throws after `attempts` tries (default 200). */
export async function waitUntilReady(url: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const ready = await fetch(`${url}/readyz`);
    await ready.body?.cancel();
    if (ready.status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url}/readyz did not answer 200 after ${attempts} tries`);
}
