import { assertEquals, assertThrows } from "@std/assert";
import { ApiError } from "../http/errors.ts";
import { parseChatCompletionRequest, parseCompletionRequest } from "./openai_schema.ts";

const limits = { maxTokensCap: 100, maxChoices: 4, maxPrompts: 3 };

function fails(fn: () => unknown, param: string, code?: string): void {
  const err = assertThrows(fn, ApiError) as ApiError;
  assertEquals(err.status, 400);
  assertEquals(err.param, param);
  if (code) assertEquals(err.code, code);
}

Deno.test("parseCompletionRequest: defaults and all fields", () => {
  assertEquals(parseCompletionRequest({ model: "m", prompt: "hi" }, limits), {
    model: "m",
    prompts: ["hi"],
    maxTokens: undefined,
    temperature: 1,
    topP: 1,
    n: 1,
    stop: [],
    seed: undefined,
    stream: false,
    includeUsage: false,
  });
  const r = parseCompletionRequest({
    model: "m",
    prompt: ["a", "b"],
    max_tokens: 100,
    temperature: 0,
    top_p: 0.5,
    n: 4,
    stop: "x",
    seed: 7,
    stream: true,
    stream_options: { include_usage: true },
    user: "ignored",
    logprobs: null,
    echo: false,
  }, limits);
  assertEquals(
    [r.prompts, r.maxTokens, r.temperature, r.topP, r.n, r.stop, r.seed, r.stream, r.includeUsage],
    [
      ["a", "b"],
      100,
      0,
      0.5,
      4,
      ["x"],
      7,
      true,
      true,
    ],
  );
});

Deno.test("parseCompletionRequest: wrong types, ranges and limits are 400s naming the field", () => {
  fails(() => parseCompletionRequest("x", limits), "body", "invalid_type");
  fails(() => parseCompletionRequest({ prompt: "x" }, limits), "model", "missing_required_parameter");
  fails(() => parseCompletionRequest({ model: "m" }, limits), "prompt", "missing_required_parameter");
  fails(() => parseCompletionRequest({ model: "m", prompt: [1] }, limits), "prompt", "invalid_type");
  fails(() => parseCompletionRequest({ model: "m", prompt: ["a", "b", "c", "d"] }, limits), "prompt");
  fails(
    () => parseCompletionRequest({ model: "m", prompt: "a", max_tokens: 101 }, limits),
    "max_tokens",
    "max_tokens_exceeded",
  );
  fails(
    () => parseCompletionRequest({ model: "m", prompt: "a", max_tokens: "5" }, limits),
    "max_tokens",
    "invalid_type",
  );
  fails(
    () => parseCompletionRequest({ model: "m", prompt: "a", max_tokens: 1.5 }, limits),
    "max_tokens",
    "invalid_type",
  );
  fails(() => parseCompletionRequest({ model: "m", prompt: "a", temperature: 3 }, limits), "temperature");
  fails(() => parseCompletionRequest({ model: "m", prompt: "a", top_p: 0 }, limits), "top_p");
  fails(() => parseCompletionRequest({ model: "m", prompt: "a", n: 5 }, limits), "n");
  fails(
    () => parseCompletionRequest({ model: "m", prompt: "a", stop: ["a", "b", "c", "d", "e"] }, limits),
    "stop",
  );
  fails(() => parseCompletionRequest({ model: "m", prompt: "a", stop: [""] }, limits), "stop");
  fails(() => parseCompletionRequest({ model: "m", prompt: "a", seed: 1.5 }, limits), "seed");
  fails(() => parseCompletionRequest({ model: "m", prompt: "a", stream: "yes" }, limits), "stream");
  fails(
    () => parseCompletionRequest({ model: "m", prompt: "a", echo: true }, limits),
    "echo",
    "unsupported_parameter",
  );
  fails(
    () => parseCompletionRequest({ model: "m", prompt: "a", logprobs: 2 }, limits),
    "logprobs",
    "unsupported_parameter",
  );
});

Deno.test("parseChatCompletionRequest: messages, text parts and max_completion_tokens", () => {
  const r = parseChatCompletionRequest({
    model: "m",
    messages: [
      { role: "system", content: "s" },
      { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
      { role: "assistant", content: null },
    ],
    max_completion_tokens: 9,
  }, limits);
  assertEquals(r.messages, [{ role: "system", content: "s" }, { role: "user", content: "ab" }, {
    role: "assistant",
    content: "",
  }]);
  assertEquals(r.maxTokens, 9);
});

Deno.test("parseChatCompletionRequest: bad messages are 400s naming the field", () => {
  fails(() => parseChatCompletionRequest({ model: "m" }, limits), "messages", "missing_required_parameter");
  fails(() => parseChatCompletionRequest({ model: "m", messages: {} }, limits), "messages", "invalid_type");
  fails(() => parseChatCompletionRequest({ model: "m", messages: [] }, limits), "messages");
  fails(
    () => parseChatCompletionRequest({ model: "m", messages: [{ role: "x", content: "a" }] }, limits),
    "messages[0].role",
  );
  fails(
    () => parseChatCompletionRequest({ model: "m", messages: [{ role: "user", content: 3 }] }, limits),
    "messages[0].content",
  );
  fails(
    () =>
      parseChatCompletionRequest({
        model: "m",
        messages: [{ role: "user", content: [{ type: "image_url" }] }],
      }, limits),
    "messages[0].content[0].type",
  );
  fails(
    () =>
      parseChatCompletionRequest({
        model: "m",
        messages: [{ role: "user", content: "a" }],
        max_completion_tokens: 500,
      }, limits),
    "max_completion_tokens",
    "max_tokens_exceeded",
  );
  fails(
    () =>
      parseChatCompletionRequest(
        { model: "m", messages: [{ role: "user", content: "a" }], tools: [{}] },
        limits,
      ),
    "tools",
  );
});

Deno.test("parse: parameters this server cannot honour are refused; their neutral values pass", () => {
  const base = { model: "m", messages: [{ role: "user", content: "hi" }] };
  const refused: Record<string, unknown> = {
    presence_penalty: 0.5,
    frequency_penalty: -1,
    response_format: { type: "json_object" },
    tools: [{ type: "function", function: { name: "f" } }],
    tool_choice: "auto",
    parallel_tool_calls: false,
    modalities: ["text", "audio"],
    logprobs: true,
  };
  for (const [key, value] of Object.entries(refused)) {
    fails(() => parseChatCompletionRequest({ ...base, [key]: value }, limits), key, "unsupported_parameter");
  }
  const neutral = {
    presence_penalty: 0,
    frequency_penalty: 0,
    response_format: { type: "text" },
    tools: [],
    tool_choice: "none",
    modalities: ["text"],
    logprobs: false,
    user: "u1",
  };
  assertEquals(parseChatCompletionRequest({ ...base, ...neutral }, limits).messages.length, 1);
});
