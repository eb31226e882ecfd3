/**
 * `POST /v1/verify`: the verifier as a reward service. A single `{ gold, response, truncated? }` or a batch
 * `{ items: [...] }` is checked with `core/verify`; each answer is the verdict plus a `reward` (1 / -1 by
 * default, 1 / 0 with `reward_format: "zero_one"` in the body or `?reward_format=zero_one`).
 *
 * The verifier may answer synchronously (`core/verify` on this thread, bounded only by its cooperative
 * `timeoutMs`) or with a promise (a {@linkcode VerifyPool} of workers, which also enforces a hard deadline). A
 * batch shares one deadline; items not started before it are answered with `status: "timeout"` unrun.
 *
 * @module
 */

import { Hono } from "hono";
import { type Judge, judgeVerdict, type Verdict } from "../../core/verify/mod.ts";
import { ApiError, invalidParam } from "../http/errors.ts";
import { timeoutVerdict, VerifyPoolBusyError } from "../verify_pool/pool.ts";
import { asObject, optionalBoolean, optionalString } from "../http/fields.ts";
import { jsonBody } from "../http/json_body.ts";

/**
 * The verifier the route calls: `core/verify`'s `verify`, a {@linkcode VerifyPool}'s `verify`, or any function
 * of the same shape. `startBy` is the `performance.now()` time after which an item not yet started should be
 * answered `timeout` (a synchronous verifier may ignore it).
 */
export type VerifyFunction = (
  gold: string,
  response: string,
  options?: { truncated?: boolean; timeoutMs?: number; startBy?: number },
) => Verdict | Promise<Verdict>;

/** How verdicts become rewards: `plus_minus_one` (1 / -1) or `zero_one` (1 / 0). */
export type RewardFormat = "plus_minus_one" | "zero_one";

/** Settings of the verify route. */
export interface VerifyRouteOptions {
  /** The verifier. */
  verify: VerifyFunction;
  /** Most items in one batch. */
  maxBatchItems: number;
  /** Time budget for one whole request (a batch shares it), in milliseconds. */
  timeLimitMs: number;
  /** Time budget for one item, in milliseconds (capped by what is left of the request's budget). */
  itemTimeLimitMs: number;
  /** Reward format when the request names none. */
  defaultRewardFormat: RewardFormat;
  /** LLM judge asked about the rules' "wrong"/"unparseable" verdicts; none (the default) asks nobody. */
  judge?: Judge;
}

/** One item to verify. */
export interface VerifyItem {
  /** The reference answer (numbers are accepted and turned into strings). */
  gold: string;
  /** The model's response. */
  response: string;
  /** True when generation hit its length limit. */
  truncated?: boolean;
}

/** A parsed verify request: one item or a batch. */
export interface VerifyRequest {
  /** The items, in order. */
  items: VerifyItem[];
  /** True when the request was a batch (`items`), so the answer is `{ results }`. */
  batch: boolean;
  /** The reward format the body asked for, if any. */
  rewardFormat?: RewardFormat;
}

/** A verdict with its reward, the route's answer for one item. */
export type VerifyResult = Verdict & { reward: number };

function parseRewardFormat(value: string | undefined, param: string): RewardFormat | undefined {
  if (value === undefined) return undefined;
  if (value === "zero_one" || value === "plus_minus_one") return value;
  throw invalidParam(param, `${param} must be "plus_minus_one" or "zero_one"`);
}

function parseItem(value: unknown, prefix: string): VerifyItem {
  const obj = asObject(value, prefix || "body");
  const p = (key: string) => prefix ? `${prefix}.${key}` : key;
  const gold = obj.gold;
  let goldText: string;
  if (typeof gold === "string") goldText = gold;
  else if (typeof gold === "number" && Number.isFinite(gold)) goldText = String(gold);
  else if (gold === undefined || gold === null) {
    throw invalidParam(p("gold"), `${p("gold")} is required`, "missing_required_parameter");
  } else throw invalidParam(p("gold"), `${p("gold")} must be a string or a number`, "invalid_type");
  const response = obj.response;
  if (response === undefined || response === null) {
    throw invalidParam(p("response"), `${p("response")} is required`, "missing_required_parameter");
  }
  if (typeof response !== "string") {
    throw invalidParam(p("response"), `${p("response")} must be a string`, "invalid_type");
  }
  const truncated = optionalBoolean(obj, "truncated", p("truncated"));
  return truncated === undefined ? { gold: goldText, response } : { gold: goldText, response, truncated };
}

/** Parses a verify body: `{ gold, response, truncated? }` or `{ items: [...] }` of at most `maxItems`. */
export function parseVerifyRequest(value: unknown, maxItems: number): VerifyRequest {
  const body = asObject(value, "body");
  const rewardFormat = parseRewardFormat(optionalString(body, "reward_format"), "reward_format");
  if (body.items === undefined) return { items: [parseItem(body, "")], batch: false, rewardFormat };
  if (!Array.isArray(body.items)) throw invalidParam("items", "items must be an array", "invalid_type");
  if (body.items.length === 0) throw invalidParam("items", "items must not be empty");
  if (body.items.length > maxItems) {
    throw invalidParam(
      "items",
      `items has ${body.items.length} entries; the limit is ${maxItems}`,
      "batch_too_large",
    );
  }
  return { items: body.items.map((item, i) => parseItem(item, `items[${i}]`)), batch: true, rewardFormat };
}

/** The reward for a verdict: 1 when correct, otherwise -1 (`plus_minus_one`) or 0 (`zero_one`). */
export function rewardOf(verdict: Verdict, format: RewardFormat): number {
  if (verdict.correct) return 1;
  return format === "zero_one" ? 0 : -1;
}

/**
 * Verifies the items within `timeLimitMs` in total: each call gets `itemTimeLimitMs` or the time left,
 * whichever is less, as its `timeoutMs`, and the request's deadline as `startBy`. A synchronous verifier runs
 * the items in order, and once no time is left the remaining items are `timeout` verdicts; an asynchronous
 * one gets them all at once.
 */
export async function verifyItems(
  verify: VerifyFunction,
  items: readonly VerifyItem[],
  limits: { timeLimitMs: number; itemTimeLimitMs: number },
  format: RewardFormat,
): Promise<VerifyResult[]> {
  const deadline = performance.now() + limits.timeLimitMs;
  const verdicts = items.map((item) => {
    const left = deadline - performance.now();
    if (left <= 0) return timeoutVerdict("the request's time limit ran out");
    const timeoutMs = Math.min(left, limits.itemTimeLimitMs);
    return verify(item.gold, item.response, {
      truncated: item.truncated ?? false,
      timeoutMs,
      startBy: deadline,
    });
  });
  let settled: Verdict[];
  try {
    settled = await Promise.all(verdicts);
  } catch (err) {
    if (err instanceof VerifyPoolBusyError) {
      throw new ApiError(429, err.message, { type: "rate_limit_error", code: "verifier_busy" });
    }
    throw err;
  }
  return settled.map((verdict) => ({ ...verdict, reward: rewardOf(verdict, format) }));
}

/** The results with the rules' "wrong"/"unparseable" verdicts handed to `judge` (concurrently), rewards redone. */
export async function judgeResults(
  judge: Judge,
  items: readonly VerifyItem[],
  results: readonly VerifyResult[],
  format: RewardFormat,
): Promise<VerifyResult[]> {
  return await Promise.all(results.map(async (r, k) => {
    const { reward: _, ...rules } = r;
    const v = await judgeVerdict(items[k].gold, items[k].response, rules, judge, {
      truncated: items[k].truncated,
    });
    return v === rules ? r : { ...v, reward: rewardOf(v, format) };
  }));
}

/** The Hono sub-app serving `POST /v1/verify`. */
export function verifyRoutes(options: VerifyRouteOptions): Hono {
  const app = new Hono();
  app.post(
    "/v1/verify",
    jsonBody((value) => parseVerifyRequest(value, options.maxBatchItems)),
    async (c) => {
      const request = c.req.valid("json");
      const query = parseRewardFormat(c.req.query("reward_format"), "reward_format");
      if (query && request.rewardFormat && query !== request.rewardFormat) {
        throw new ApiError(400, "reward_format differs between the query and the body", {
          param: "reward_format",
          code: "conflicting_parameters",
        });
      }
      const format = request.rewardFormat ?? query ?? options.defaultRewardFormat;
      let results = await verifyItems(options.verify, request.items, options, format);
      if (options.judge) results = await judgeResults(options.judge, request.items, results, format);
      return c.json(request.batch ? { results } : results[0]);
    },
  );
  return app;
}
