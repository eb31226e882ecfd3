/**
 * Batched generation over real HTTP, with decoders in workers as `deno task serve` runs them: the `n`
 * choices of a request are rows of one decode batch, concurrent requests share decode steps (seen through
 * `GET /metrics`), a stream whose client does not read does not hold the others, and the answers equal those
 * of a decode batch of one (the sequential path).
 */

import { assert, assertEquals } from "@std/assert";
import type { LanguageModel } from "../edge/inference/language_model.ts";
import { loadModelDir } from "../edge/inference/load_model_dir.ts";
import { startServer, type TestServer, writeSlowModelDir, writeToyModelDir } from "./edge_harness.ts";

const dir = await Deno.makeTempDir({ prefix: "edge_batching_" });
await writeToyModelDir(`${dir}/toy`, 128);
await writeSlowModelDir(`${dir}/slow`);

function post(server: TestServer, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/v1/completions`, { method: "POST", body: JSON.stringify(body), signal });
}

/** `GET /metrics` as name → value. */
async function metrics(server: TestServer): Promise<Record<string, number>> {
  const res = await fetch(`${server.url}/metrics`);
  assertEquals(res.status, 200);
  const values: Record<string, number> = {};
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const [name, value] = line.split(" ");
    values[name] = Number(value);
  }
  return values;
}

async function withModel(
  folder: string,
  decodeBatch: number,
  fn: (server: TestServer, model: LanguageModel) => Promise<void>,
): Promise<void> {
  const model = await loadModelDir(`${dir}/${folder}`, { decodeBatch });
  const server = startServer({ model });
  try {
    await fn(server, model);
  } finally {
    await server.close();
    await model.close();
  }
}

Deno.test("http: n = 4 choices are one decode batch and equal the sequential path's (seeded and greedy)", async () => {
  const requests = [
    { model: "toy", prompt: "hello", n: 4, max_tokens: 20, temperature: 1.5, seed: 7 },
    { model: "toy", prompt: "abc", n: 4, max_tokens: 12, temperature: 0 },
  ];
  const answer = async (server: TestServer) => {
    const texts: string[][] = [];
    for (const request of requests) {
      const json = await (await post(server, request)).json();
      texts.push(json.choices.map((c: { index: number; text: string }) => `${c.index}:${c.text}`));
    }
    return texts;
  };
  let sequential: string[][] = [];
  await withModel("toy", 1, async (server) => {
    sequential = await answer(server);
    assertEquals((await metrics(server)).oreal_decode_batch_peak, 1);
  });
  await withModel("toy", 8, async (server) => {
    const batched = await answer(server);
    assertEquals(batched, sequential);
    assertEquals(new Set(batched[0].map((t) => t.slice(2))).size > 1, true); // the seeded choices differ
    const m = await metrics(server);
    assertEquals(m.oreal_decode_batch_peak, 4);
    assertEquals(m.oreal_prefills_total, 2); // one per request: its 4 choices share the prompt's run
    assert(m.oreal_decode_rows_total > m.oreal_decode_steps_total);
  });
});

Deno.test("http: two concurrent requests share decode steps; a stream that is not read holds neither", async () => {
  await withModel("slow", 8, async (server) => {
    // A long stream whose client reads one event, then stops reading.
    const stalled = new AbortController();
    const long = await post(
      server,
      { model: "slow", prompt: "a", max_tokens: 300, stream: true },
      stalled.signal,
    );
    const reader = long.body!.getReader();
    await reader.read(); // its generation is under way
    const before = await metrics(server);
    const short = await (await post(server, { model: "slow", prompt: "a", max_tokens: 10, temperature: 0 }))
      .json();
    assertEquals(short.choices[0].text, "bcdefghijk");
    const after = await metrics(server);
    // Every decode step of the short request (its first token comes from its prompt's run) had the long
    // stream as its second row: rows - steps grew by exactly those 9 steps.
    const shared = (after.oreal_decode_rows_total - after.oreal_decode_steps_total) -
      (before.oreal_decode_rows_total - before.oreal_decode_steps_total);
    assertEquals(shared, 9);
    assertEquals(after.oreal_generation_active, 1); // the unread stream is still generating
    stalled.abort();
    await reader.closed.catch(() => {});
  });
});
