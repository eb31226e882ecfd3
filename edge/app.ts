/**
 * The edge service as a Hono app built from options: the verifier as a reward service (`POST /v1/verify`),
 * optional OpenAI-compatible inference (`/v1/models`, `/v1/completions`, `/v1/chat/completions`), health
 * checks (`/healthz`, `/readyz`), decode counters (`/metrics`), optional bearer auth on everything but the
 * health checks, optional CORS, a body size limit and OpenAI-shaped JSON errors for every failure.
 *
 * ```ts
 * import { verify } from "../core/verify/mod.ts";
 * import { createApp } from "./app.ts";
 * const app = createApp({ verify });
 * Deno.serve({ port: 8787 }, app.fetch);
 * ```
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { bearerAuth } from "./http/auth.ts";
import { boundedBody } from "./http/body.ts";
import { ApiError, errorResponse } from "./http/errors.ts";
import type { LanguageModel } from "./inference/language_model.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { openAIRoutes } from "./routes/openai.ts";
import type { Judge } from "../core/verify/mod.ts";
import { type RewardFormat, type VerifyFunction, verifyRoutes } from "./routes/verify.ts";

/** Size and time limits of the service. */
export interface EdgeLimits {
  /** Most items in one `/v1/verify` batch (also the most prompts in one completions request). */
  maxBatchItems: number;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Largest `max_tokens` a generation request may ask for. */
  maxTokensCap: number;
  /** Largest `n` (choices per prompt). */
  maxChoices: number;
  /** Most tokens one generation request may ask for: prompts × n × max_tokens. */
  maxRequestTokens: number;
  /** Time a request body may take to arrive, in milliseconds. */
  bodyTimeMs: number;
  /** Time budget of one request, in milliseconds. */
  requestTimeMs: number;
  /** Time budget of one verification, in milliseconds (within the request's). */
  verifyTimeMs: number;
}

/** The default limits. */
export const DEFAULT_LIMITS: Readonly<EdgeLimits> = Object.freeze({
  maxBatchItems: 256,
  maxBodyBytes: 1 << 20,
  maxTokensCap: 1024,
  maxChoices: 8,
  maxRequestTokens: 16_384,
  bodyTimeMs: 10_000,
  requestTimeMs: 60_000,
  verifyTimeMs: 2_000,
});

/** How the app is put together. */
export interface EdgeOptions {
  /** The verifier behind `/v1/verify` (normally `core/verify`'s `verify`). */
  verify: VerifyFunction;
  /** The model to serve, or a promise of it while it loads; absent for a verifier-only service. */
  model?: LanguageModel | Promise<LanguageModel>;
  /** When set, every route but the health checks needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Origins allowed by CORS (`["*"]` for any); empty or absent sends no CORS headers. */
  corsOrigins?: readonly string[];
  /** Limits; missing ones take {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<EdgeLimits>;
  /** Reward format when a verify request names none (default `plus_minus_one`). */
  defaultRewardFormat?: RewardFormat;
  /** LLM judge for `/v1/verify`'s "wrong"/"unparseable" verdicts (`core/verify`'s `createJudge`); off when absent. */
  judge?: Judge;
}

/** Where model loading stands, as `/readyz` reports it. */
type ModelState =
  | { state: "none" }
  | { state: "loading" }
  | { state: "ready"; model: LanguageModel }
  | { state: "failed" };

function trackModel(model: EdgeOptions["model"]): { get: () => ModelState } {
  let state: ModelState = { state: "none" };
  if (model instanceof Promise) {
    state = { state: "loading" };
    model.then(
      (m) => state = { state: "ready", model: m },
      () => state = { state: "failed" },
    );
  } else if (model) state = { state: "ready", model };
  return { get: () => state };
}

/** Refuses a query string that repeats a parameter, rather than silently taking one of the values. */
const singleQueryValues: MiddlewareHandler = async (c, next) => {
  if (!c.req.url.includes("?")) return await next();
  const search = new URL(c.req.url).searchParams;
  const seen = new Set<string>();
  for (const key of search.keys()) {
    if (seen.has(key)) {
      throw new ApiError(400, `the query parameter '${key}' is given more than once`, {
        param: key,
        code: "repeated_parameter",
      });
    }
    seen.add(key);
  }
  await next();
};

/** Builds the edge app. Nothing is read from the environment or the file system. */
export function createApp(options: EdgeOptions): Hono {
  const limits: EdgeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`createApp: limits.${key} must be a positive integer`);
    }
  }
  const model = trackModel(options.model);
  const app = new Hono();

  app.onError((err) => {
    if (!(err instanceof ApiError) && !(err instanceof HTTPException)) {
      console.error("edge: unexpected error:", err);
    }
    return errorResponse(err);
  });
  app.notFound((c) =>
    errorResponse(new ApiError(404, `no route for ${c.req.method} ${c.req.path}`, { code: "not_found" }))
  );

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    const origins = [...options.corsOrigins];
    app.use(
      "*",
      cors({
        origin: origins.includes("*") ? "*" : origins,
        allowHeaders: ["Authorization", "Content-Type"],
        allowMethods: ["GET", "POST", "OPTIONS"],
        maxAge: 600,
      }),
    );
  }

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const s = model.get();
    if (s.state === "ready") return c.json({ status: "ready", model: s.model.id });
    if (s.state === "none") return c.json({ status: "ready", model: null });
    if (s.state === "loading") return c.json({ status: "loading", model: null }, 503);
    // The reason stays in the server's log: it may name files, and this route needs no key.
    return c.json({ status: "failed", model: null, error: "the model could not be loaded" }, 503);
  });

  if (options.apiKey) {
    app.use("/v1/*", bearerAuth(options.apiKey));
    app.use("/metrics", bearerAuth(options.apiKey));
  }
  app.use("/v1/*", singleQueryValues);
  app.use("/v1/*", boundedBody({ maxBytes: limits.maxBodyBytes, timeMs: limits.bodyTimeMs }));

  app.route(
    "/",
    verifyRoutes({
      verify: options.verify,
      maxBatchItems: limits.maxBatchItems,
      timeLimitMs: limits.requestTimeMs,
      itemTimeLimitMs: limits.verifyTimeMs,
      defaultRewardFormat: options.defaultRewardFormat ?? "plus_minus_one",
      judge: options.judge,
    }),
  );
  const readyModel = () => {
    const s = model.get();
    return s.state === "ready" ? s.model : undefined;
  };
  app.route("/", metricsRoutes(readyModel));
  app.route(
    "/",
    openAIRoutes({
      model: readyModel,
      limits: {
        maxTokensCap: limits.maxTokensCap,
        maxChoices: limits.maxChoices,
        maxPrompts: limits.maxBatchItems,
        maxRequestTokens: limits.maxRequestTokens,
      },
      timeLimitMs: limits.requestTimeMs,
    }),
  );
  return app;
}
