/**
 * `deno task serve [--model DIR] [--port 8787] [--host 127.0.0.1] ...`: runs the edge service. Without
 * `--model` it serves the verifier only. The API key comes from `OREAL_API_KEY` and the CORS origins from
 * `OREAL_CORS_ORIGINS` (comma-separated, `*` for any).
 *
 * @module
 */

import { HELP_FLAG, parseFlags, usageText } from "../../core/cli/mod.ts";
import { verify } from "../../core/verify/mod.ts";
import { createApp, DEFAULT_LIMITS, type EdgeLimits } from "../app.ts";
import type { VerifyFunction } from "../routes/verify.ts";
import { DEFAULT_DECODE_BATCH, loadModelDir } from "../inference/load_model_dir.ts";
import type { ExecutionProvider } from "../inference/onnx_decoder.ts";
import { INLINE_MAX_CHARS, inlineFirst } from "../verify_pool/inline.ts";
import { VerifyPool } from "../verify_pool/pool.ts";
import { DEFAULT_SERVER_LIMITS, type HttpServer, serveHttp, type ServerLimits } from "../http/server.ts";

/** Everything `serve` needs, from the command line and the environment. */
export interface ServeConfig {
  /** Model folder, or undefined for a verifier-only service. */
  modelDir?: string;
  /** Model id (default: the folder's name). */
  modelId?: string;
  /** onnxruntime-web execution provider. */
  provider: ExecutionProvider;
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** Host to listen on. */
  host: string;
  /** Decoders (copies of the model), one worker each. */
  concurrency: number;
  /** Generations each decoder runs at once, in one decode batch. */
  decodeBatch: number;
  /** Run inference on the server's thread instead of in workers. */
  inProcess: boolean;
  /** Verification workers. */
  verifyWorkers: number;
  /** Items of at most this many characters are verified on the server's thread (0: none). */
  inlineVerifyChars: number;
  /** Bearer token, from OREAL_API_KEY. */
  apiKey?: string;
  /** CORS origins, from OREAL_CORS_ORIGINS. */
  corsOrigins: string[];
  /** Limits of the app. */
  limits: EdgeLimits;
  /** Limits of the HTTP server (connections and timeouts). */
  server: ServerLimits;
}

const FLAGS = {
  model: {
    type: "string",
    arg: "DIR",
    help: "model folder (model.onnx, config.json, tokenizer.json); none = verifier only",
  },
  "model-id": {
    type: "string",
    arg: "NAME",
    help: 'id clients put in "model" (default: the folder\'s name)',
  },
  provider: { type: "string", arg: "wasm|webgpu", help: "onnxruntime-web execution provider (default wasm)" },
  port: { type: "string", arg: "N", help: "port (default 8787; 0 picks a free port)" },
  host: { type: "string", arg: "HOST", help: "host (default 127.0.0.1)" },
  concurrency: {
    type: "string",
    arg: "N",
    help: "decoders (copies of the model), one worker each (default 1)",
  },
  "decode-batch": {
    type: "string",
    arg: "N",
    help: `generations each decoder runs at once, decoded together (default ${DEFAULT_DECODE_BATCH})`,
  },
  "in-process": {
    type: "boolean",
    help: "run inference and verification on the server's thread instead of in workers",
  },
  "verify-workers": {
    type: "string",
    arg: "N",
    help:
      "verification workers (default 2, growing to 2N while all are stuck on slow items); a stuck one is " +
      "replaced after its deadline",
  },
  "inline-verify-chars": {
    type: "string",
    arg: "N",
    help:
      `verify items of at most N characters on the server's thread, the rest in workers (default ${INLINE_MAX_CHARS}; 0: all in workers)`,
  },
  "max-tokens": {
    type: "string",
    arg: "N",
    help: `cap on max_tokens (default ${DEFAULT_LIMITS.maxTokensCap})`,
  },
  "max-request-tokens": {
    type: "string",
    arg: "N",
    help: `cap on prompts × n × max_tokens per request (default ${DEFAULT_LIMITS.maxRequestTokens})`,
  },
  "max-batch": {
    type: "string",
    arg: "N",
    help: `most items per verify batch (default ${DEFAULT_LIMITS.maxBatchItems})`,
  },
  "max-body-bytes": {
    type: "string",
    arg: "N",
    help: `largest request body (default ${DEFAULT_LIMITS.maxBodyBytes})`,
  },
  "time-limit-ms": {
    type: "string",
    arg: "N",
    help: `time budget per request (default ${DEFAULT_LIMITS.requestTimeMs})`,
  },
  "verify-time-ms": {
    type: "string",
    arg: "N",
    help: `time budget per verification (default ${DEFAULT_LIMITS.verifyTimeMs})`,
  },
  "body-time-ms": {
    type: "string",
    arg: "N",
    help: `time a request body may take to arrive (default ${DEFAULT_LIMITS.bodyTimeMs})`,
  },
  "max-connections": {
    type: "string",
    arg: "N",
    help: `connections open at once; more get a 503 (default ${DEFAULT_SERVER_LIMITS.maxConnections})`,
  },
  "idle-time-ms": {
    type: "string",
    arg: "N",
    help: `close a connection idle this long (default ${DEFAULT_SERVER_LIMITS.idleTimeMs})`,
  },
  "header-time-ms": {
    type: "string",
    arg: "N",
    help: `time a request's head may take to arrive (default ${DEFAULT_SERVER_LIMITS.headerTimeMs})`,
  },
  "write-time-ms": {
    type: "string",
    arg: "N",
    help: `cut a client that reads nothing for this long (default ${DEFAULT_SERVER_LIMITS.writeTimeMs})`,
  },
  ...HELP_FLAG,
} as const;

/** The usage text, generated from the flag table. */
export const USAGE: string = usageText(
  "usage: deno task serve [options]",
  FLAGS,
  "environment: OREAL_API_KEY (bearer token), OREAL_CORS_ORIGINS (comma-separated origins, * for any)",
);

function integer(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${flag} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/** Parses arguments and environment values; throws an Error with a clear message on bad input. */
export function parseServeConfig(args: string[], env: (name: string) => string | undefined): ServeConfig {
  const { values } = parseFlags(args, FLAGS);
  const provider = values.provider ?? "wasm";
  if (provider !== "wasm" && provider !== "webgpu") {
    throw new Error(`--provider must be wasm or webgpu, got '${provider}'`);
  }
  const port = integer(values.port, "port", 8787, 0);
  if (port > 65535) throw new Error(`--port must be at most 65535, got ${port}`);
  const apiKey = env("OREAL_API_KEY")?.trim();
  const origins = (env("OREAL_CORS_ORIGINS") ?? "").split(",").map((s) => s.trim()).filter((s) => s);
  return {
    modelDir: values.model,
    modelId: values["model-id"],
    provider,
    port,
    host: values.host ?? "127.0.0.1",
    concurrency: integer(values.concurrency, "concurrency", 1, 1),
    decodeBatch: integer(values["decode-batch"], "decode-batch", DEFAULT_DECODE_BATCH, 1),
    inProcess: values["in-process"] ?? false,
    verifyWorkers: integer(values["verify-workers"], "verify-workers", 2, 1),
    inlineVerifyChars: integer(values["inline-verify-chars"], "inline-verify-chars", INLINE_MAX_CHARS, 0),
    apiKey: apiKey ? apiKey : undefined,
    corsOrigins: origins,
    limits: {
      maxTokensCap: integer(values["max-tokens"], "max-tokens", DEFAULT_LIMITS.maxTokensCap, 1),
      maxBatchItems: integer(values["max-batch"], "max-batch", DEFAULT_LIMITS.maxBatchItems, 1),
      maxBodyBytes: integer(values["max-body-bytes"], "max-body-bytes", DEFAULT_LIMITS.maxBodyBytes, 1),
      requestTimeMs: integer(values["time-limit-ms"], "time-limit-ms", DEFAULT_LIMITS.requestTimeMs, 1),
      verifyTimeMs: integer(values["verify-time-ms"], "verify-time-ms", DEFAULT_LIMITS.verifyTimeMs, 1),
      maxChoices: DEFAULT_LIMITS.maxChoices,
      bodyTimeMs: integer(values["body-time-ms"], "body-time-ms", DEFAULT_LIMITS.bodyTimeMs, 1),
      maxRequestTokens: integer(
        values["max-request-tokens"],
        "max-request-tokens",
        DEFAULT_LIMITS.maxRequestTokens,
        1,
      ),
    },
    server: {
      ...DEFAULT_SERVER_LIMITS,
      maxConnections: integer(
        values["max-connections"],
        "max-connections",
        DEFAULT_SERVER_LIMITS.maxConnections,
        1,
      ),
      idleTimeMs: integer(values["idle-time-ms"], "idle-time-ms", DEFAULT_SERVER_LIMITS.idleTimeMs, 1),
      headerTimeMs: integer(
        values["header-time-ms"],
        "header-time-ms",
        DEFAULT_SERVER_LIMITS.headerTimeMs,
        1,
      ),
      writeTimeMs: integer(values["write-time-ms"], "write-time-ms", DEFAULT_SERVER_LIMITS.writeTimeMs, 1),
    },
  };
}

/**
 * Starts the server for `config`; the model loads in the background (`/readyz` says when it is ready).
 * Verification runs in a pool of workers unless `inProcess` is set.
 */
export function serve(config: ServeConfig): HttpServer {
  // Workers started after onnxruntime-web ran on this thread do not work, so with in-process inference the
  // pool could not replace a stuck worker: verification then runs on this thread too.
  const pool = config.inProcess ? undefined : new VerifyPool({ workers: config.verifyWorkers });
  const model = config.modelDir === undefined ? undefined : loadModelDir(config.modelDir, {
    provider: config.provider,
    id: config.modelId,
    concurrency: config.concurrency,
    decodeBatch: config.decodeBatch,
    workers: !config.inProcess,
  });
  model?.then(
    (m) => console.log(`edge: model '${m.id}' loaded (${config.provider})`),
    (err) =>
      console.error(`edge: loading ${config.modelDir} failed: ${err instanceof Error ? err.message : err}`),
  );
  const pooled: VerifyFunction | undefined = pool &&
    ((gold, response, options) => pool.verify(gold, response, options));
  const app = createApp({
    // Small items on this thread (bounded work, see verify_pool/inline.ts), the rest in the pool.
    verify: pooled
      ? (config.inlineVerifyChars > 0
        ? inlineFirst(verify, pooled, { maxChars: config.inlineVerifyChars })
        : pooled)
      : verify,
    model,
    apiKey: config.apiKey,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
  });
  return serveHttp({
    port: config.port,
    hostname: config.host,
    limits: { ...config.server, maxConnections: connectionCap(config.server.maxConnections) },
    onListen: ({ hostname, port }) => {
      const auth = config.apiKey ? "bearer auth on" : "no auth";
      console.log(`edge: listening on http://${hostname}:${port} (${auth})`);
    },
  }, (request) => app.fetch(request));
}

/** Descriptors kept free for workers, model files and refusals, below the connection cap. */
const DESCRIPTOR_RESERVE = 32;

/**
 * How many more files this process can open now, up to `atMost`: it opens /dev/null until the system
 * refuses (or `atMost` are open) and closes them again. Undefined when /dev/null cannot be opened at all.
 */
export function spareDescriptors(atMost: number): number | undefined {
  const files: Deno.FsFile[] = [];
  try {
    while (files.length < atMost) files.push(Deno.openSync("/dev/null"));
  } catch (err) {
    if (files.length === 0 && !/too many open files/i.test(String(err))) return undefined;
  } finally {
    for (const f of files) f.close();
  }
  return files.length;
}

/** The connection cap: `wanted`, lowered to stay `DESCRIPTOR_RESERVE` below the descriptors this process has. */
export function connectionCap(wanted: number): number {
  const spare = spareDescriptors(wanted + DESCRIPTOR_RESERVE);
  if (spare === undefined || spare >= wanted + DESCRIPTOR_RESERVE) return wanted;
  const cap = Math.max(1, spare - DESCRIPTOR_RESERVE);
  console.log(`edge: only ${spare} file descriptors are free (ulimit -n); at most ${cap} connections`);
  return cap;
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let config: ServeConfig;
  try {
    config = parseServeConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (err) {
    console.error(`serve: ${err instanceof Error ? err.message : err}\n${USAGE}`);
    Deno.exit(2);
  }
  serve(config);
}
