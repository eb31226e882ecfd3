/**
 * The verifier alone as a deployable fetch handler, for Deno Deploy, Cloudflare Workers or any runtime with
 * `fetch`-style handlers: no file system, no environment reads at import time, no native code. It serves
 * `POST /v1/verify`, `GET /healthz` and `GET /readyz` with the default limits.
 *
 * On Cloudflare Workers the bindings object (the handler's second argument) may carry `OREAL_API_KEY` to
 * require a bearer token, and `OREAL_CORS_ORIGINS` (comma-separated) to allow browser origins.
 *
 * ```ts
 * // deno serve edge/verifier.ts   (or: export default from a Worker)
 * import verifier from "./verifier.ts";
 * const res = await verifier.fetch(new Request("http://x/v1/verify", {
 *   method: "POST",
 *   body: JSON.stringify({ gold: "42", response: "The answer is \\boxed{42}." }),
 * }));
 * ```
 *
 * @module
 */

import type { Hono } from "hono";
import { verify } from "../core/verify/mod.ts";
import { createApp } from "./app.ts";

/** Bindings a Worker may pass as the handler's second argument. */
export interface VerifierBindings {
  /** Bearer token to require, if any. */
  OREAL_API_KEY?: string;
  /** Comma-separated CORS origins, if any. */
  OREAL_CORS_ORIGINS?: string;
}

const apps = new Map<string, Hono>();

/** The app for one set of bindings, built on first use and kept. */
function appFor(bindings: VerifierBindings | undefined): Hono {
  const apiKey = typeof bindings?.OREAL_API_KEY === "string" ? bindings.OREAL_API_KEY : "";
  const origins = typeof bindings?.OREAL_CORS_ORIGINS === "string" ? bindings.OREAL_CORS_ORIGINS : "";
  const key = `${apiKey}\n${origins}`;
  let app = apps.get(key);
  if (!app) {
    const corsOrigins = origins.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    app = createApp({ verify, apiKey: apiKey || undefined, corsOrigins });
    apps.set(key, app);
  }
  return app;
}

/** The fetch handler: `fetch(request, bindings?)`. */
export function fetch(request: Request, bindings?: unknown): Response | Promise<Response> {
  const b = typeof bindings === "object" && bindings !== null ? bindings as VerifierBindings : undefined;
  return appFor(b).fetch(request);
}

export default { fetch };
