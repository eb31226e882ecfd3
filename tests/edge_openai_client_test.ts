/**
 * The official `openai` npm client, unchanged, against the edge server (auth on): model list, completions
 * and chat completions, with and without streaming.
 */

import { assertEquals, assertRejects } from "@std/assert";
import OpenAI from "openai";
import { loadModelDir } from "../edge/inference/load_model_dir.ts";
import { startServer, toyContinuation, writeToyModelDir } from "./edge_harness.ts";

const dir = await Deno.makeTempDir({ prefix: "edge_openai_" });
await writeToyModelDir(`${dir}/toy`);
const model = await loadModelDir(`${dir}/toy`, { workers: false });

async function withClient(fn: (client: OpenAI) => Promise<void>): Promise<void> {
  const server = startServer({ model, apiKey: "test-key" });
  try {
    await fn(new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "test-key", maxRetries: 0 }));
  } finally {
    await server.close();
  }
}

Deno.test("openai client: models.list and completions.create, plain and streamed", async () => {
  await withClient(async (client) => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assertEquals(ids, ["toy"]);

    const completion = await client.completions.create({
      model: "toy",
      prompt: "abc",
      temperature: 0,
      max_tokens: 50,
    });
    assertEquals(completion.choices[0].text, toyContinuation("c"));
    assertEquals(completion.choices[0].finish_reason, "stop");
    assertEquals(completion.usage?.prompt_tokens, 3);

    const stream = await client.completions.create({
      model: "toy",
      prompt: "uv",
      temperature: 0,
      stream: true,
    });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assertEquals([text, finish], [toyContinuation("v"), "stop"]);
  });
});

Deno.test("openai client: chat.completions.create, plain and streamed with usage", async () => {
  await withClient(async (client) => {
    const messages = [{ role: "user" as const, content: "hello" }];
    const chat = await client.chat.completions.create({ model: "toy", messages, temperature: 0, seed: 1 });
    assertEquals(chat.choices[0].message.role, "assistant");
    assertEquals(chat.choices[0].message.content, toyContinuation("\n"));
    assertEquals(chat.choices[0].finish_reason, "stop");

    const stream = await client.chat.completions.create({
      model: "toy",
      messages,
      temperature: 0,
      max_completion_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assertEquals([content, finish], [toyContinuation("\n").slice(0, 5), "length"]);
    assertEquals(usage?.completion_tokens, 5);
  });
});

Deno.test("openai client: errors arrive as the client's typed API errors", async () => {
  await withClient(async (client) => {
    const err = await assertRejects(
      () => client.completions.create({ model: "toy", prompt: "a", max_tokens: 100_000 }),
      OpenAI.BadRequestError,
    );
    assertEquals((err as InstanceType<typeof OpenAI.BadRequestError>).param, "max_tokens");
    await assertRejects(
      () => client.completions.create({ model: "nope", prompt: "a" }),
      OpenAI.NotFoundError,
    );
    const wrongKey = new OpenAI({ baseURL: client.baseURL, apiKey: "wrong", maxRetries: 0 });
    await assertRejects(() => wrongKey.models.list(), OpenAI.AuthenticationError);
  });
});
