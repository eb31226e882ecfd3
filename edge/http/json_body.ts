/**
 * A Hono middleware that reads the request body (the one `boundedBody` buffered, if it ran) as JSON, whatever
 * the Content-Type says (so that `curl -d` works), hands it to a parse function and stores the result for
 * `c.req.valid("json")`. A body that is not valid UTF-8 is a 400.
 *
 * @module
 */

import type { Env, MiddlewareHandler } from "hono";
import { bufferedBody } from "./body.ts";
import { ApiError } from "./errors.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The validation targets the middleware fills: the parsed body under `json`. */
export type JsonInput<T> = { in: { json: unknown }; out: { json: T } };

/**
 * Middleware that parses the body as JSON and then with `parse`, which throws an {@linkcode ApiError} for bad
 * input. An empty or malformed body is a 400 with code `invalid_json`.
 */
export function jsonBody<T extends object, E extends Env = Env>(
  parse: (value: unknown) => T,
): MiddlewareHandler<E, string, JsonInput<T>> {
  return async (c, next) => {
    let text: string;
    try {
      text = UTF8.decode(bufferedBody(c.req.raw) ?? await c.req.arrayBuffer());
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      throw new ApiError(400, "the request body is not valid UTF-8", { code: "invalid_utf8" });
    }
    if (text.trim() === "") {
      throw new ApiError(400, "the request body is empty; send a JSON object", { code: "invalid_json" });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ApiError(400, `malformed JSON in the request body: ${detail}`, { code: "invalid_json" });
    }
    c.req.addValidatedData("json", parse(value));
    await next();
  };
}
