import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { buildToyModel, successorSpec, toyConfig, toyReference } from "../../tests/edge_toy_model.ts";
import { parseDecoderConfig } from "./model_config.ts";
import { OnnxDecoder } from "./onnx_decoder.ts";

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) out.push(id);
  return out;
}

Deno.test("OnnxDecoder: greedy decoding with the KV cache matches the toy model's reference", async () => {
  const spec = successorSpec(11, 32);
  // Make positions and the token count matter, so that a wrong cache or wrong position_ids change tokens.
  for (let pos = 0; pos < spec.maxPositions; pos++) spec.p[pos * 11 + (pos * 7) % 11] = 6;
  for (let j = 0; j < 11; j++) spec.u[j] = ((j * 5) % 11) * 0.6;
  const decoder = await OnnxDecoder.load(buildToyModel(spec), parseDecoderConfig(toyConfig(spec, 0)), "wasm");
  const prompt = [3, 1, 4];
  const tokens = await collect(
    decoder.generate(prompt, { maxTokens: 12, sampling: { temperature: 0 }, seed: 1 }),
  );
  assertEquals(tokens, toyReference(spec, prompt, 12));
  // The position and count terms do change the tokens (the successor rule alone would give 5, 6, 7, ...).
  assertNotEquals(tokens, toyReference(successorSpec(11, 32), prompt, 12));
  await decoder.release();
});

Deno.test("OnnxDecoder: stops when the context is full, and seeded sampling is reproducible", async () => {
  const spec = successorSpec(7, 8);
  spec.w.fill(0); // uniform next-token distribution
  const decoder = await OnnxDecoder.load(buildToyModel(spec), parseDecoderConfig(toyConfig(spec, 0)), "wasm");
  const params = { maxTokens: 100, sampling: { temperature: 1 }, seed: 42 };
  const a = await collect(decoder.generate([1, 2, 3], params));
  const b = await collect(decoder.generate([1, 2, 3], params));
  assertEquals(a.length, 6); // positions 3..7 are fed one by one; the last step samples from position 7
  assertEquals(a, b);
  const c = await collect(decoder.generate([1, 2, 3], { ...params, seed: 43 }));
  assertEquals(c.length, 6);
  await decoder.release();
});

Deno.test("OnnxDecoder: an aborted signal stops generation", async () => {
  const spec = successorSpec(5);
  const decoder = await OnnxDecoder.load(buildToyModel(spec), parseDecoderConfig(toyConfig(spec, 0)), "wasm");
  const controller = new AbortController();
  const seen: number[] = [];
  await assertRejects(
    async () => {
      for await (
        const id of decoder.generate([1], {
          maxTokens: 10,
          sampling: { temperature: 0 },
          seed: 0,
          signal: controller.signal,
        })
      ) {
        seen.push(id);
        if (seen.length === 2) controller.abort(new Error("stop now"));
      }
    },
    Error,
    "stop now",
  );
  assertEquals(seen, [2, 3]);
  await decoder.release();
});

Deno.test("OnnxDecoder: a model without the Optimum inputs is refused with a clear message", async () => {
  const spec = successorSpec(5);
  const config = parseDecoderConfig({ ...toyConfig(spec, 0), num_hidden_layers: 3 });
  await assertRejects(
    () => OnnxDecoder.load(buildToyModel(spec), config, "wasm"),
    Error,
    "missing input past_key_values.2.key",
  );
});
