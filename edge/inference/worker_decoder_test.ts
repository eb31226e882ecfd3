import { assertEquals, assertRejects } from "@std/assert";
import { buildToyModel, successorSpec, toyConfig, toyReference } from "../../tests/edge_toy_model.ts";
import { parseDecoderConfig } from "./model_config.ts";
import { WorkerDecoder } from "./worker_decoder.ts";

const spec = successorSpec(11, 64);
for (let pos = 0; pos < spec.maxPositions; pos++) spec.p[pos * 11 + (pos * 3) % 11] = 6;
const config = parseDecoderConfig(toyConfig(spec, 0));
const greedy = { sampling: { temperature: 0 }, seed: 0 };
// Starting a worker takes seconds on a busy machine: the tests share one.
const decoder = await WorkerDecoder.load(buildToyModel(spec), config, "wasm");

Deno.test("WorkerDecoder: the same tokens as the model's reference; leaving early cancels and frees it", async () => {
  const all: number[] = [];
  for await (const t of decoder.generate([2, 7], { ...greedy, maxTokens: 20 })) all.push(t);
  assertEquals(all, toyReference(spec, [2, 7], 20));
  const first: number[] = [];
  for await (const t of decoder.generate([2, 7], { ...greedy, maxTokens: 50 })) {
    first.push(t);
    if (first.length === 3) break;
  }
  assertEquals(first, all.slice(0, 3));
  // The worker is free again at once.
  const again: number[] = [];
  for await (const t of decoder.generate([5], { ...greedy, maxTokens: 4 })) again.push(t);
  assertEquals(again, toyReference(spec, [5], 4));
});

Deno.test("WorkerDecoder: an aborted signal stops generation with its reason", async () => {
  try { // the last test of the shared worker: it stops it
    const controller = new AbortController();
    const seen: number[] = [];
    await assertRejects(
      async () => {
        for await (
          const t of decoder.generate([1], { ...greedy, maxTokens: 60, signal: controller.signal })
        ) {
          seen.push(t);
          if (seen.length === 2) controller.abort(new Error("client left"));
        }
      },
      Error,
      "client left",
    );
    assertEquals(seen.length >= 2 && seen.length < 60, true);
  } finally {
    await decoder.release();
  }
});

Deno.test("WorkerDecoder: a model the worker cannot load is a rejected promise with the reason", async () => {
  const bad = parseDecoderConfig({ ...toyConfig(spec, 0), num_hidden_layers: 4 });
  await assertRejects(
    () => WorkerDecoder.load(buildToyModel(spec), bad, "wasm"),
    Error,
    "past_key_values.2.key",
  );
});
