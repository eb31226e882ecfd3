/**
 * OpenAI-compatible inference routes: `GET /v1/models`, `POST /v1/completions` and
 * `POST /v1/chat/completions`, JSON or server-sent events (`stream: true`, ending with `data: [DONE]`).
 * A request generates its choices within the per-request time limit, up to half the model's slots at once,
 * taking a slot of the model's fair queue for each choice (so small requests get through while a large one
 * runs); choices under way, of this request and of others, are rows of the model's decode batches. A request
 * may ask for at most `maxRequestTokens` generated tokens (choices × max_tokens). A stream is fed without
 * waiting for the client (see {@linkcode EventStream}): a slow or stalled reader never holds the model, a
 * client that goes away aborts generation, and a body still unread when the time limit runs out is cut. A client of a non-streamed request that leaves is not noticed:
 * its generation runs to its limits.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { ApiError } from "../http/errors.ts";
import { clientSignal } from "../http/departure.ts";
import { jsonBody } from "../http/json_body.ts";
import type { PromptSegment } from "../inference/chat_template.ts";
import type { LanguageModel } from "../inference/language_model.ts";
import { QueueFullError } from "../inference/queue.ts";
import type { FinishReason } from "../inference/text_generation.ts";
import {
  type GenerationLimits,
  type GenerationRequest,
  parseChatCompletionRequest,
  parseCompletionRequest,
} from "./openai_schema.ts";

/** Settings of the inference routes. */
export interface OpenAIRouteOptions {
  /** The model now served, or undefined while none is loaded. */
  model: () => LanguageModel | undefined;
  /** Parsing limits, and the most tokens one request may ask to generate (choices × max_tokens). */
  limits: GenerationLimits & { maxRequestTokens: number };
  /** Time budget for one request (queueing and generation), in milliseconds. */
  timeLimitMs: number;
}

/** One choice to generate: which prompt, and its index in the answer. */
interface Job {
  index: number;
  promptIds: number[];
}

/** What a request does as its choices start, stream and finish. */
interface JobHooks {
  started(job: Job): void;
  delta(job: Job, text: string): void;
  finished(result: ChoiceResult): void;
}

interface ChoiceResult {
  index: number;
  text: string;
  finishReason: FinishReason;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** How a route formats its answers: plain completions or chat. */
interface Format {
  object: string;
  chunkObject: string;
  idPrefix: string;
  choice(result: ChoiceResult): Record<string, unknown>;
  firstDelta(index: number): Record<string, unknown> | null;
  delta(index: number, text: string): Record<string, unknown>;
  finish(index: number, reason: FinishReason): Record<string, unknown>;
}

const completionFormat: Format = {
  object: "text_completion",
  chunkObject: "text_completion",
  idPrefix: "cmpl-",
  choice: (r) => ({ index: r.index, text: r.text, logprobs: null, finish_reason: r.finishReason }),
  firstDelta: () => null,
  delta: (index, text) => ({ index, text, logprobs: null, finish_reason: null }),
  finish: (index, reason) => ({ index, text: "", logprobs: null, finish_reason: reason }),
};

const chatFormat: Format = {
  object: "chat.completion",
  chunkObject: "chat.completion.chunk",
  idPrefix: "chatcmpl-",
  choice: (r) => ({
    index: r.index,
    message: { role: "assistant", content: r.text, refusal: null },
    logprobs: null,
    finish_reason: r.finishReason,
  }),
  firstDelta: (index) => ({
    index,
    delta: { role: "assistant", content: "" },
    logprobs: null,
    finish_reason: null,
  }),
  delta: (index, text) => ({ index, delta: { content: text }, logprobs: null, finish_reason: null }),
  finish: (index, reason) => ({ index, delta: {}, logprobs: null, finish_reason: reason }),
};

function timeoutError(limitMs: number): ApiError {
  return new ApiError(504, `the request did not finish within the time limit of ${limitMs} ms`, {
    type: "timeout_error",
    code: "request_timeout",
  });
}

/** The model a request names; 503 while none is loaded, 404 for another name. */
function servedModel(options: OpenAIRouteOptions, name: string): LanguageModel {
  const model = options.model();
  if (!model) {
    throw new ApiError(503, "no model is loaded on this server", {
      type: "server_error",
      code: "model_not_loaded",
    });
  }
  if (name !== model.id) {
    throw new ApiError(404, `the model '${name}' does not exist; this server serves '${model.id}'`, {
      param: "model",
      code: "model_not_found",
    });
  }
  return model;
}

/** Turns encoded prompts into jobs (n per prompt), checking that they fit in the context. */
function planJobs(
  model: LanguageModel,
  prompts: readonly Uint32Array[],
  n: number,
): { jobs: Job[]; promptTokens: number } {
  const jobs: Job[] = [];
  let promptTokens = 0;
  prompts.forEach((encoded, p) => {
    if (encoded.length === 0) throw new ApiError(400, "the prompt is empty", { param: "prompt" });
    if (encoded.length >= model.contextLength) {
      throw new ApiError(
        400,
        `the prompt has ${encoded.length} tokens; this model's context is ${model.contextLength} tokens`,
        { param: "prompt", code: "context_length_exceeded" },
      );
    }
    promptTokens += encoded.length;
    const promptIds = Array.from(encoded);
    for (let i = 0; i < n; i++) jobs.push({ index: p * n + i, promptIds });
  });
  return { jobs, promptTokens };
}

/** Refuses a request whose prompts × n × max_tokens exceed the per-request cap on generated tokens. */
function checkWork(prompts: number, n: number, maxTokens: number, cap: number): void {
  const total = prompts * n * maxTokens;
  if (total > cap) {
    throw new ApiError(
      400,
      `this request asks for up to ${prompts} prompts × ${n} choices × ${maxTokens} tokens = ${total} ` +
        `tokens; the limit is ${cap} generated tokens per request (lower n, max_tokens or the prompts)`,
      { param: "max_tokens", code: "request_too_large" },
    );
  }
}

/** The least time a finished stream's reader gets to read its last events. */
const DRAIN_GRACE_MS = 2000;

/**
 * A server-sent-events body fed without waiting for the client: generation appends events to an in-memory
 * queue (bounded by the request's token cap) and never blocks on a slow or stalled reader, so the model slot
 * is freed as soon as generation ends. `finish` closes the body once the client has read it all, or cuts the
 * connection when the request's time runs out first.
 */
class EventStream {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #done = false;
  #finished = false;
  #closed = false;
  readonly #encoder = new TextEncoder();

  /** `onCancel` runs when the client goes away. */
  constructor(onCancel: () => void) {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#closeIfDrained(),
      cancel: () => {
        this.#closed = true;
        onCancel();
      },
    }, { highWaterMark: 0 });
  }

  /** Queues one `data:` event. */
  send(data: string): void {
    if (!this.#closed) this.#controller.enqueue(this.#encoder.encode(`data: ${data}\n\n`));
  }

  /**
   * No more events: the body ends once read. When it is still unread at `deadline` (a `performance.now()`
   * time; at least {@linkcode DRAIN_GRACE_MS} from now, so that a timed-out request's last events can go out),
   * the connection is cut.
   */
  finish(deadline: number): void {
    this.#finished = true;
    this.#closeIfDrained();
    if (this.#closed) return;
    const cut = () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#controller.error(new DOMException("the client did not read the stream in time", "TimeoutError"));
    };
    Deno.unrefTimer(setTimeout(cut, Math.max(deadline - performance.now(), DRAIN_GRACE_MS)));
  }

  #closeIfDrained(): void {
    if (this.#finished && !this.#closed && !this.#done && (this.#controller.desiredSize ?? 0) >= 0) {
      this.#done = true;
      this.#closed = true;
      this.#controller.close();
    }
  }
}

/** Serves one generation request: queue, generate, answer as JSON or SSE. */
async function serve(
  c: Context,
  options: OpenAIRouteOptions,
  model: LanguageModel,
  request: GenerationRequest,
  planned: { jobs: Job[]; promptTokens: number },
  extraStops: readonly string[],
  defaultMaxTokens: number,
  format: Format,
): Promise<Response> {
  const maxTokens = request.maxTokens ?? defaultMaxTokens;
  checkWork(planned.jobs.length / request.n, request.n, maxTokens, options.limits.maxRequestTokens);
  const abort = new AbortController();
  const failure = new AbortController();
  const deadline = performance.now() + options.timeLimitMs;
  const timeout = AbortSignal.timeout(options.timeLimitMs);
  const gone = clientSignal(c.req.raw);
  const signal = AbortSignal.any([abort.signal, timeout, failure.signal, gone]);
  // A slot is taken for one choice at a time (see `SlotQueue`): between choices, smaller requests may pass.
  let release: (() => void) | undefined;
  try {
    release = await model.queue.acquire({ signal, cost: maxTokens });
  } catch (err) {
    if (err instanceof QueueFullError) {
      throw new ApiError(429, err.message, { type: "rate_limit_error", code: "queue_full" });
    }
    if (timeout.aborted) throw timeoutError(options.timeLimitMs);
    throw err;
  }
  const id = format.idPrefix + crypto.randomUUID().replaceAll("-", "");
  const created = Math.floor(Date.now() / 1000);
  const seed = request.seed ?? Math.floor(Math.random() * 2 ** 31);
  const params = {
    maxTokens,
    sampling: { temperature: request.temperature, topP: request.topP },
    stop: [...request.stop, ...extraStops],
    signal,
  };
  let completionTokens = 0;
  const usage = (): Usage => ({
    prompt_tokens: planned.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: planned.promptTokens + completionTokens,
  });
  /** Generates one job's choice with a slot of its own (the first job takes the one acquired above). */
  const runJob = async (job: Job, hooks: JobHooks): Promise<ChoiceResult> => {
    let slot = release;
    release = undefined;
    slot ??= await model.queue.acquire({ signal, cost: maxTokens, resume: true });
    try {
      hooks.started(job);
      const result = await model.generate(
        job.promptIds,
        { ...params, seed: seed + job.index },
        (text) => hooks.delta(job, text),
      );
      completionTokens += result.completionTokens;
      return { index: job.index, text: result.text, finishReason: result.finishReason };
    } finally {
      slot();
    }
  };
  /**
   * Runs every job, up to half the model's slots at once (so that one request never takes them all), as rows
   * of the decode batch. A failed job stops the others; its error is thrown once all have stopped.
   */
  const runJobs = async (hooks: JobHooks): Promise<void> => {
    let next = 0;
    const lane = async () => {
      while (next < planned.jobs.length) {
        signal.throwIfAborted();
        hooks.finished(await runJob(planned.jobs[next++], hooks));
      }
    };
    const width = Math.min(planned.jobs.length, Math.max(1, Math.floor(model.capacity / 2)));
    const lanes = Array.from(
      { length: width },
      () =>
        lane().catch((err) => {
          failure.abort(err);
          throw err;
        }),
    );
    const failed = (await Promise.allSettled(lanes)).find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  const envelope = { id, object: format.chunkObject, created, model: model.id };
  if (!request.stream) {
    try {
      const choices: ChoiceResult[] = [];
      await runJobs({ started: () => {}, delta: () => {}, finished: (r) => choices.push(r) });
      choices.sort((a, b) => a.index - b.index);
      return c.json({
        id,
        object: format.object,
        created,
        model: model.id,
        choices: choices.map(format.choice),
        usage: usage(),
      });
    } catch (err) {
      if (timeout.aborted) throw timeoutError(options.timeLimitMs);
      if (gone.aborted) {
        // Nobody reads this answer; it only keeps the client's departure out of the error log.
        throw new ApiError(499, "the client closed the connection", { code: "client_closed_request" });
      }
      throw err;
    } finally {
      release?.();
    }
  }
  const events = new EventStream(() => abort.abort(new DOMException("the client went away", "AbortError")));
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    events.send(JSON.stringify({ ...envelope, choices, ...extra }));
  const usageField = request.includeUsage ? { usage: null } : {};
  (async () => {
    try {
      await runJobs({
        started: (job) => {
          const first = format.firstDelta(job.index);
          if (first) send([first], usageField);
        },
        delta: (job, text) => send([format.delta(job.index, text)], usageField),
        finished: (result) => send([format.finish(result.index, result.finishReason)], usageField),
      });
      if (request.includeUsage) send([], { usage: usage() });
    } catch (err) {
      if (abort.signal.aborted) return;
      const apiError = timeout.aborted
        ? timeoutError(options.timeLimitMs)
        : new ApiError(500, "generation failed", { type: "server_error", code: "generation_failed" });
      if (!timeout.aborted) console.error("edge: generation failed:", err);
      events.send(JSON.stringify(apiError.toBody()));
    } finally {
      release?.();
    }
    events.send("[DONE]");
    events.finish(deadline);
  })();
  return new Response(events.body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}

/** The Hono sub-app serving the OpenAI-compatible routes. */
export function openAIRoutes(options: OpenAIRouteOptions): Hono {
  const app = new Hono();
  const limits = options.limits;

  const describe = (model: LanguageModel) => ({
    id: model.id,
    object: "model",
    created: model.created,
    owned_by: "oreal-ts",
  });
  app.get("/v1/models", (c) => {
    const model = options.model();
    return c.json({ object: "list", data: model ? [describe(model)] : [] });
  });
  app.get("/v1/models/:id{.+}", (c) => {
    const name = c.req.param("id");
    const model = options.model();
    if (!model || model.id !== name) {
      throw new ApiError(404, `the model '${name}' does not exist`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json(describe(model));
  });

  app.post("/v1/completions", jsonBody((v) => parseCompletionRequest(v, limits)), async (c) => {
    const request = c.req.valid("json");
    const model = servedModel(options, request.model);
    const prompts = await Promise.all(request.prompts.map((text) => model.tokenize({ text })));
    const planned = planJobs(model, prompts, request.n);
    return serve(c, options, model, request, planned, [], 16, completionFormat);
  });

  app.post("/v1/chat/completions", jsonBody((v) => parseChatCompletionRequest(v, limits)), async (c) => {
    const request = c.req.valid("json");
    const model = servedModel(options, request.model);
    // Message content is encoded as text: a special-token string in it cannot open or close a turn.
    let segments: PromptSegment[];
    try {
      segments = model.chat.segments(request.messages);
    } catch {
      throw new ApiError(400, "the model's chat template cannot format these messages", {
        type: "invalid_request_error",
        param: "messages",
        code: "invalid_messages",
      });
    }
    const planned = planJobs(model, [await model.tokenize({ segments })], request.n);
    return serve(c, options, model, request, planned, model.chat.stops, limits.maxTokensCap, chatFormat);
  });

  return app;
}
