/**
 * Loads a model folder as the trainer exports it (Hugging Face layout): `model.onnx` (Optimum decoder
 * convention; its weights inside the file or in the external-data files beside it, `model.onnx_data`),
 * `config.json`, `tokenizer.json` and, when present, `tokenizer_config.json` (special tokens, chat template),
 * `chat_template.jinja` and `generation_config.json` (every EOS id). Needs read access to the folder and to
 * onnxruntime-web's `.wasm` files in node_modules.
 *
 * @module
 */

import { tokenizerFromFiles } from "../../core/tokenizer/mod.ts";
import { ChatTemplate } from "./chat_template.ts";
import { LanguageModel } from "./language_model.ts";

/** The external-data file of a large model (weights beside `model.onnx`). */
const EXTERNAL_DATA = "model.onnx_data";
import { parseDecoderConfig } from "./model_config.ts";
import { type ExecutionProvider, OnnxDecoder, type TokenGenerator } from "./onnx_decoder.ts";
import { WorkerDecoder } from "./worker_decoder.ts";
import { WorkerEncoder } from "./worker_encoder.ts";

/** How to load and serve a model folder. */
export interface LoadModelOptions {
  /** onnxruntime-web execution provider (default `wasm`). */
  provider?: ExecutionProvider;
  /** The id clients use in `model` (default: the folder's name). */
  id?: string;
  /** Copies of the model (decoders), each in its own worker (default 1). */
  concurrency?: number;
  /**
   * Generations each decoder runs at once, decoded together in one batch (default
   * {@linkcode DEFAULT_DECODE_BATCH}; 1 for a graph without `position_ids`).
   */
  decodeBatch?: number;
  /**
   * Run each decoder, and the prompt encoder, in a Web Worker (default true), so that neither inference nor
   * tokenisation blocks the server's event loop; false runs both on the calling thread (for runtimes without
   * workers).
   */
  workers?: boolean;
  /** Requests that may wait for a slot (default 64). */
  maxWaiting?: number;
}

async function readJson(path: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${err instanceof Error ? err.message : err}`);
  }
}

async function readOptionalJson(path: string): Promise<unknown> {
  try {
    return await readJson(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** The last path segment of `dir`, ignoring trailing slashes. */
export function folderName(dir: string): string {
  const parts = dir.replace(/[\\/]+$/, "").split(/[\\/]/).filter((p) => p !== "");
  const last = parts[parts.length - 1];
  // A training run keeps its model in `runs/<name>/checkpoint`: the run's name says more than "checkpoint".
  if (last === "checkpoint" && parts.length > 1) return parts[parts.length - 2];
  return last || "model";
}

/** Generations one decoder runs at once by default. */
export const DEFAULT_DECODE_BATCH = 16;

/** Reads and loads `dir`; throws an Error naming the file at fault. */
export async function loadModelDir(dir: string, options: LoadModelOptions = {}): Promise<LanguageModel> {
  const base = dir.replace(/[\\/]+$/, "");
  const configJson = await readJson(`${base}/config.json`);
  const parsed = parseDecoderConfig(configJson);
  const files = {
    // As text: parsed once with no copy, and cheap to post to the encoder worker (its object graph is not).
    tokenizer: await Deno.readTextFile(`${base}/tokenizer.json`),
    tokenizerConfig: await readOptionalJson(`${base}/tokenizer_config.json`),
    generationConfig: await readOptionalJson(`${base}/generation_config.json`),
    config: configJson,
    chatTemplate: await Deno.readTextFile(`${base}/chat_template.jinja`).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }),
  };
  const folder = tokenizerFromFiles(files);
  const tokenizer = folder.tokenizer;
  const config = { ...parsed, sampledVocabSize: Math.min(parsed.vocabSize, tokenizer.vocabSize) };
  const chat = new ChatTemplate(folder.chatTemplate, tokenizer);
  const bytes = await Deno.readFile(`${base}/model.onnx`);
  // A model over protobuf's 2 GiB keeps its weights beside it, in the file Optimum and our exporter name so.
  const externalData = await Deno.readFile(`${base}/${EXTERNAL_DATA}`).then(
    (data) => ({ path: EXTERNAL_DATA, data }),
    (err) => {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    },
  );
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`loadModelDir: concurrency must be a positive integer, got ${concurrency}`);
  }
  const decodeBatch = options.decodeBatch ?? DEFAULT_DECODE_BATCH;
  if (!Number.isInteger(decodeBatch) || decodeBatch < 1) {
    throw new RangeError(`loadModelDir: decodeBatch must be a positive integer, got ${decodeBatch}`);
  }
  const provider = options.provider ?? "wasm";
  const load = options.workers === false ? OnnxDecoder.load : WorkerDecoder.load;
  const settled = await Promise.allSettled(
    Array.from({ length: concurrency }, () => load(bytes, config, provider, externalData, decodeBatch)),
  );
  const decoders = settled.flatMap((r) => r.status === "fulfilled" ? [r.value as TokenGenerator] : []);
  const failure = settled.find((r) => r.status === "rejected");
  if (failure) {
    await Promise.all(decoders.map((d) => d.release()));
    throw (failure as PromiseRejectedResult).reason;
  }
  // Started once the decoder workers are up (a worker that cannot start fails there first, with its reason).
  let encoder: WorkerEncoder | undefined;
  try {
    encoder = options.workers === false ? undefined : await WorkerEncoder.load(files);
  } catch (err) {
    await Promise.all(decoders.map((d) => d.release()));
    throw err;
  }
  return new LanguageModel(
    options.id ?? folderName(base),
    decoders,
    tokenizer,
    options.maxWaiting ?? 64,
    chat,
    encoder,
  );
}
