/**
 * A batch verifier that sends responses to the edge verifier's `POST /v1/verify` (`deno task serve`, or
 * `edge/verifier.ts` on an edge runtime), so CPU-heavy grading scales apart from sampling.
 *
 * The route has no answer-form field, so a response whose problem names a form (`factored`, ...) is verified
 * in this process with `core/verify` instead; everything else goes over HTTP in batches of at most
 * {@linkcode HTTP_BATCH_ITEMS}.
 * @module
 */
import { type BatchVerifier, localVerifier, type RolloutVerdict, type VerifyRequest } from "../rl/rollout.ts";

/** Items per request: the edge app's default batch limit. */
export const HTTP_BATCH_ITEMS = 256;

/** Options of {@linkcode httpVerifier}. */
export interface HttpVerifierOptions {
  /** Base URL of the service (`http://host:8787`); `/v1/verify` is appended. */
  url: string;
  /** Bearer token, when the service requires one (`OREAL_API_KEY` there). */
  apiKey?: string;
  /** Time limit of one request in milliseconds (default 60,000). */
  timeoutMs?: number;
  /** The fetch function (default the global one). */
  fetch?: typeof fetch;
}

/** The verifier answered something other than a verdict per item. */
export class VerifierHttpError extends Error {
  override name = "VerifierHttpError";
}

/** Checks a `--verifier-url` value and returns the endpoint URL. */
export function verifyEndpoint(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new RangeError(`--verifier-url: "${base}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`--verifier-url: expected an http:// or https:// URL, got ${url.protocol}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}/v1/verify`;
}

function verdictOf(value: unknown, index: number): RolloutVerdict {
  const v = value as { correct?: unknown; status?: unknown; extracted?: unknown } | null;
  if (
    v === null || typeof v !== "object" || typeof v.correct !== "boolean" || typeof v.status !== "string" ||
    !(v.extracted === null || v.extracted === undefined || typeof v.extracted === "string")
  ) {
    throw new VerifierHttpError(`the verifier's result ${index} is not a verdict`);
  }
  return {
    correct: v.correct,
    status: v.status,
    extracted: typeof v.extracted === "string" ? v.extracted : null,
  };
}

/** The batch verifier that asks the service at `options.url`. */
export function httpVerifier(options: HttpVerifierOptions): BatchVerifier {
  const endpoint = verifyEndpoint(options.url);
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const post = async (items: readonly VerifyRequest[]): Promise<RolloutVerdict[]> => {
    const body = JSON.stringify({
      items: items.map((r) => ({ gold: r.gold, response: r.response, truncated: r.truncated })),
    });
    let res: Response;
    try {
      res = await doFetch(endpoint, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new VerifierHttpError(`cannot reach the verifier at ${endpoint}: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      throw new VerifierHttpError(
        `the verifier at ${endpoint} answered ${res.status}: ${text.slice(0, 200)}`,
      );
    }
    let parsed: { results?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new VerifierHttpError(`the verifier at ${endpoint} answered with something that is not JSON`);
    }
    if (!Array.isArray(parsed.results) || parsed.results.length !== items.length) {
      throw new VerifierHttpError(`the verifier at ${endpoint} did not answer one result per item`);
    }
    return parsed.results.map(verdictOf);
  };

  return async (requests) => {
    const out: RolloutVerdict[] = new Array(requests.length);
    const remote: number[] = [];
    const local: number[] = [];
    requests.forEach((r, i) => (r.form ? local : remote).push(i));
    const localVerdicts = await localVerifier(local.map((i) => requests[i]));
    local.forEach((i, k) => out[i] = localVerdicts[k]);
    for (let start = 0; start < remote.length; start += HTTP_BATCH_ITEMS) {
      const chunk = remote.slice(start, start + HTTP_BATCH_ITEMS);
      const verdicts = await post(chunk.map((i) => requests[i]));
      chunk.forEach((i, k) => out[i] = verdicts[k]);
    }
    return out;
  };
}
