/**
 * Parsing of OpenAI completion and chat-completion request bodies into checked values, with the limits of
 * this server (a `max_tokens` cap, most choices per request, most prompts per request). Unknown fields are
 * ignored, as OpenAI-compatible servers do; fields this server cannot honour (`echo`, `logprobs`, `best_of`,
 * `suffix`, `presence_penalty` and `frequency_penalty` other than 0, `response_format` other than text,
 * `tools`, `tool_choice`, ...) are refused with a 400 rather than silently dropped.
 *
 * @module
 */

import type { ChatMessage } from "../inference/chat_template.ts";
import { invalidParam } from "../http/errors.ts";
import {
  asObject,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  requiredString,
} from "../http/fields.ts";

/** Limits applied while parsing. */
export interface GenerationLimits {
  /** Largest `max_tokens` accepted. */
  maxTokensCap: number;
  /** Largest `n`. */
  maxChoices: number;
  /** Most prompts in one completions request. */
  maxPrompts: number;
}

/** The fields shared by completions and chat completions. */
export interface GenerationRequest {
  /** The model id. */
  model: string;
  /** Most tokens per choice, or undefined for the route's default. */
  maxTokens: number | undefined;
  /** Sampling temperature in [0, 2]. */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
  /** Choices per prompt. */
  n: number;
  /** Stop strings (up to 4). */
  stop: string[];
  /** Seed, when given. */
  seed: number | undefined;
  /** Server-sent events instead of one JSON answer. */
  stream: boolean;
  /** Send a last chunk with the usage (`stream_options.include_usage`). */
  includeUsage: boolean;
}

/** A parsed `POST /v1/completions` body. */
export interface CompletionRequest extends GenerationRequest {
  /** The prompts (a string prompt is one). */
  prompts: string[];
}

/** A parsed `POST /v1/chat/completions` body. */
export interface ChatCompletionRequest extends GenerationRequest {
  /** The conversation. */
  messages: ChatMessage[];
}

const nonEmptyList = (v: unknown) => !Array.isArray(v) || v.length > 0;

/** Fields this server cannot honour, each with the test of whether a value asks for something. */
const UNSUPPORTED: Record<string, (value: unknown) => boolean> = {
  echo: (v) => v !== false,
  logprobs: (v) => v !== false,
  top_logprobs: (v) => v !== 0,
  best_of: (v) => v !== 1,
  suffix: (v) => v !== "",
  logit_bias: (v) => typeof v !== "object" || Object.keys(v as object).length > 0,
  presence_penalty: (v) => v !== 0,
  frequency_penalty: (v) => v !== 0,
  repetition_penalty: (v) => v !== 1,
  response_format: (v) => (v as { type?: unknown }).type !== "text",
  tools: nonEmptyList,
  functions: nonEmptyList,
  tool_choice: (v) => v !== "none",
  function_call: (v) => v !== "none",
  parallel_tool_calls: () => true,
  audio: () => true,
  modalities: (v) => !Array.isArray(v) || v.some((m) => m !== "text"),
  prediction: () => true,
  web_search_options: () => true,
};

function refuseUnsupported(body: Record<string, unknown>): void {
  for (const [key, used] of Object.entries(UNSUPPORTED)) {
    if (body[key] !== undefined && body[key] !== null && used(body[key])) {
      throw invalidParam(key, `${key} is not supported by this server`, "unsupported_parameter");
    }
  }
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
    throw invalidParam("stop", "stop must be a string or an array of strings", "invalid_type");
  }
  if (list.length > 4) throw invalidParam("stop", "stop may hold at most 4 sequences");
  if (list.some((s) => s.length === 0)) throw invalidParam("stop", "stop sequences must not be empty");
  return list as string[];
}

function parseShared(
  body: Record<string, unknown>,
  limits: GenerationLimits,
  tokensKey: string,
): GenerationRequest {
  refuseUnsupported(body);
  const streamOptions = body.stream_options === undefined || body.stream_options === null
    ? {}
    : asObject(body.stream_options, "stream_options");
  const seed = body.seed;
  if (seed !== undefined && seed !== null && (typeof seed !== "number" || !Number.isSafeInteger(seed))) {
    throw invalidParam("seed", "seed must be an integer", "invalid_type");
  }
  return {
    model: requiredString(body, "model"),
    maxTokens: optionalInteger(body, tokensKey, 1, limits.maxTokensCap, tokensKey, "max_tokens_exceeded"),
    temperature: optionalNumber(body, "temperature", 0, 2) ?? 1,
    topP: parseTopP(body),
    n: optionalInteger(body, "n", 1, limits.maxChoices) ?? 1,
    stop: parseStop(body.stop),
    seed: typeof seed === "number" ? seed : undefined,
    stream: optionalBoolean(body, "stream") ?? false,
    includeUsage: optionalBoolean(streamOptions, "include_usage", "stream_options.include_usage") ?? false,
  };
}

function parseTopP(body: Record<string, unknown>): number {
  const topP = optionalNumber(body, "top_p", 0, 1) ?? 1;
  if (topP === 0) throw invalidParam("top_p", "top_p must be greater than 0");
  return topP;
}

/** Parses a completions body; throws a 400 ApiError naming the bad field. */
export function parseCompletionRequest(value: unknown, limits: GenerationLimits): CompletionRequest {
  const body = asObject(value, "body");
  const shared = parseShared(body, limits, "max_tokens");
  const prompt = body.prompt;
  let prompts: string[];
  if (typeof prompt === "string") prompts = [prompt];
  else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === "string")) {
    prompts = prompt as string[];
  } else if (prompt === undefined || prompt === null) {
    throw invalidParam("prompt", "prompt is required", "missing_required_parameter");
  } else {throw invalidParam(
      "prompt",
      "prompt must be a string or a non-empty array of strings",
      "invalid_type",
    );}
  if (prompts.length > limits.maxPrompts) {
    throw invalidParam("prompt", `prompt holds ${prompts.length} prompts; the limit is ${limits.maxPrompts}`);
  }
  return { ...shared, prompts };
}

function messageContent(value: unknown, param: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value.map((part, i) => {
      const obj = asObject(part, `${param}[${i}]`);
      if (obj.type !== "text") {
        throw invalidParam(
          `${param}[${i}].type`,
          "only text content parts are supported",
          "unsupported_parameter",
        );
      }
      return requiredString(obj, "text", `${param}[${i}].text`);
    }).join("");
  }
  throw invalidParam(param, `${param} must be a string or an array of text parts`, "invalid_type");
}

const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

/** Parses a chat-completions body; throws a 400 ApiError naming the bad field. */
export function parseChatCompletionRequest(value: unknown, limits: GenerationLimits): ChatCompletionRequest {
  const body = asObject(value, "body");
  const tokensKey = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null
    ? "max_completion_tokens"
    : "max_tokens";
  const shared = parseShared(body, limits, tokensKey);
  if (!Array.isArray(body.messages)) {
    throw body.messages === undefined
      ? invalidParam("messages", "messages is required", "missing_required_parameter")
      : invalidParam("messages", "messages must be an array", "invalid_type");
  }
  if (body.messages.length === 0) throw invalidParam("messages", "messages must not be empty");
  const messages = body.messages.map((m, i): ChatMessage => {
    const obj = asObject(m, `messages[${i}]`);
    const role = requiredString(obj, "role", `messages[${i}].role`);
    if (!ROLES.has(role)) {
      throw invalidParam(
        `messages[${i}].role`,
        `messages[${i}].role must be one of ${[...ROLES].join(", ")}`,
      );
    }
    const content = obj.content === null && role === "assistant"
      ? ""
      : messageContent(obj.content, `messages[${i}].content`);
    return { role, content };
  });
  return { ...shared, messages };
}
