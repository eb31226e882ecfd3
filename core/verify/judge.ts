/**
 * The LLM-judge fallback of the OREAL judger: when the rules say "wrong" or "unparseable", an
 * OpenAI-compatible chat model is asked whether the response's answer matches the reference, and answers
 * with one letter, A (equivalent) or B (not). Temperature 0, a timeout, an in-memory cache; any failure
 * (network, status, timeout, a reply that is not A or B) leaves the rule verdict as it was.
 *
 * @module
 */

/** Settings of a judge. */
export interface JudgeConfig {
  /** The endpoint: a base URL (`http://host:8000/v1`) or the full `.../chat/completions` URL. */
  url: string;
  /** The model name sent in each request. */
  model: string;
  /** Bearer token, when the endpoint needs one. */
  apiKey?: string;
  /** Time limit of one judge request in milliseconds (default 30,000). */
  timeoutMs?: number;
  /** Most answers kept in the cache (default 10,000). */
  cacheSize?: number;
  /** The `fetch` to use (default the global one). */
  fetch?: typeof fetch;
}

/** What a judge was asked: the question when known, the reference answer and the response's answer. */
export interface JudgeQuery {
  question?: string;
  gold: string;
  answer: string;
}

/** A judge's decision: `equivalent` (A), `different` (B), or `failed` with the reason. */
export type JudgeResult = { decision: "equivalent" | "different" } | { decision: "failed"; error: string };

/** A judge: asks the model, at most once per distinct query while the answer is cached. */
export interface Judge {
  /** Asks whether `query.answer` matches `query.gold`; never throws. */
  ask(query: JudgeQuery): Promise<JudgeResult>;
  /** Requests sent so far (cache hits excluded). */
  readonly requests: number;
}

/** Default time limit of one judge request, in milliseconds. */
export const DEFAULT_JUDGE_TIMEOUT_MS = 30_000;
const DEFAULT_CACHE_SIZE = 10_000;
/** Longest reply body read from the endpoint. */
const MAX_REPLY_BYTES = 1 << 20;
/** Longest question, reference or answer put in a prompt (longer ones keep their end). */
const MAX_FIELD_CHARS = 4_000;

function clip(text: string): string {
  return text.length > MAX_FIELD_CHARS ? "…" + text.slice(text.length - MAX_FIELD_CHARS) : text;
}

/** The judge prompt: the OREAL judger's protocol (reference, candidate, reply A or B), in our words. */
export function judgePrompt(query: JudgeQuery): string {
  const question = query.question ? `Question:\n${clip(query.question)}\n\n` : "";
  return "You check the final answer of a solution to a maths problem against the reference answer.\n" +
    "Judge only whether the candidate's final answer is mathematically equivalent to the reference answer " +
    "for this question. Differences of notation, of formatting, of the spelling of a unit or of the order " +
    "of an unordered set do not matter; a different value, a missing part or an extra part does.\n\n" +
    `${question}Reference answer:\n${clip(query.gold)}\n\nCandidate answer:\n${clip(query.answer)}\n\n` +
    "Reply with a single letter: A if the candidate answer is equivalent to the reference answer, " +
    "B if it is not.";
}

/** The letter of a judge's reply (`A`, `**B**`, `A.`, `Answer: A`), or null when it is neither or both. */
export function parseJudgeReply(text: string): "A" | "B" | null {
  const letters = text.replace(/\*\*|["'`()[\].:]/g, " ").trim().split(/\s+/).filter((w) =>
    w === "A" || w === "B"
  );
  const unique = new Set(letters);
  return unique.size === 1 ? letters[0] as "A" | "B" : null;
}

function endpoint(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/chat/completions") ? u : `${u}/chat/completions`;
}

async function readLimited(res: Response): Promise<string> {
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > MAX_REPLY_BYTES) {
    await res.body?.cancel();
    throw new Error("reply too large");
  }
  const text = await res.text();
  if (text.length > MAX_REPLY_BYTES) throw new Error("reply too large");
  return text;
}

/** Creates a judge for an OpenAI-compatible chat endpoint. Throws a RangeError for an invalid URL. */
export function createJudge(config: JudgeConfig): Judge {
  const url = endpoint(config.url);
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new RangeError(`the judge URL must be an http(s) URL, got ${JSON.stringify(config.url)}`);
  }
  if (config.model.trim() === "") throw new RangeError("the judge needs a model name");
  const timeoutMs = config.timeoutMs ?? DEFAULT_JUDGE_TIMEOUT_MS;
  const cacheSize = config.cacheSize ?? DEFAULT_CACHE_SIZE;
  const doFetch = config.fetch ?? fetch;
  const cache = new Map<string, "equivalent" | "different">();
  const pending = new Map<string, Promise<JudgeResult>>();
  let requests = 0;

  async function request(query: JudgeQuery): Promise<JudgeResult> {
    requests++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
      const res = await doFetch(url, {
        method: "POST",
        headers,
        signal: controller.signal,
        body: JSON.stringify({
          model: config.model,
          messages: [{ role: "user", content: judgePrompt(query) }],
          temperature: 0,
          max_tokens: 16,
        }),
      });
      const text = await readLimited(res);
      if (!res.ok) return { decision: "failed", error: `the judge answered HTTP ${res.status}` };
      const content = JSON.parse(text)?.choices?.[0]?.message?.content;
      if (typeof content !== "string") {
        return { decision: "failed", error: "the judge's reply has no message" };
      }
      const letter = parseJudgeReply(content);
      if (letter === null) return { decision: "failed", error: "the judge's reply is neither A nor B" };
      return { decision: letter === "A" ? "equivalent" : "different" };
    } catch (e) {
      const why = controller.signal.aborted ? `no reply within ${timeoutMs} ms` : (e as Error).message;
      return { decision: "failed", error: `the judge failed: ${why}` };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    get requests() {
      return requests;
    },
    ask(query: JudgeQuery): Promise<JudgeResult> {
      const key = JSON.stringify([query.question ?? "", query.gold, query.answer]);
      const hit = cache.get(key);
      if (hit !== undefined) return Promise.resolve({ decision: hit });
      const inFlight = pending.get(key);
      if (inFlight !== undefined) return inFlight;
      const p = request(query).then((r) => {
        pending.delete(key);
        if (r.decision !== "failed") {
          if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
          cache.set(key, r.decision);
        }
        return r;
      });
      pending.set(key, p);
      return p;
    },
  };
}

/**
 * A judge configured from the environment, or null when no URL is given: `OREAL_JUDGE_URL`,
 * `OREAL_JUDGE_MODEL` (required with a URL), `OREAL_JUDGE_API_KEY`, `OREAL_JUDGE_TIMEOUT_MS`; `overrides`
 * (command-line flags) win over the variables. Throws a RangeError for a missing model or a bad setting.
 */
export function judgeFromEnv(
  env: (name: string) => string | undefined,
  overrides: { url?: string; model?: string } = {},
): Judge | null {
  const base = overrides.url ?? env("OREAL_JUDGE_URL");
  if (base === undefined || base === "") return null;
  const model = overrides.model ?? env("OREAL_JUDGE_MODEL");
  if (model === undefined || model === "") {
    throw new RangeError("OREAL_JUDGE_MODEL must name the judge model");
  }
  const timeout = env("OREAL_JUDGE_TIMEOUT_MS");
  const timeoutMs = timeout === undefined ? undefined : Number(timeout);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new RangeError("OREAL_JUDGE_TIMEOUT_MS must be positive");
  }
  return createJudge({ url: base, model, apiKey: env("OREAL_JUDGE_API_KEY"), timeoutMs });
}
