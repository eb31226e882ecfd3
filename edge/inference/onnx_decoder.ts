/**
 * Autoregressive decoding with an ONNX decoder in the Hugging Face Optimum convention, on onnxruntime-web:
 * inputs `input_ids` [b, s], `attention_mask` [b, past + s], `position_ids` [b, s] (when the graph has it) and
 * `past_key_values.N.key` / `.value` [b, kv_heads, past, head_dim]; outputs `logits` [b, s, vocab] and
 * `present.N.key` / `.value`, fed back as the next step's past (the KV cache). Only float32 caches are
 * supported. The `wasm` provider runs anywhere; `webgpu` needs `navigator.gpu`.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import * as ort from "onnxruntime-web/all";
import { createRng } from "../../core/random/mod.ts";
import { type SamplingParams, TokenSampler } from "../../core/sampling/mod.ts";
import type { DecoderConfig } from "./model_config.ts";

/** Where the model runs: onnxruntime-web's `wasm` (CPU) or `webgpu` execution provider. */
export type ExecutionProvider = "wasm" | "webgpu";

/** How to sample one sequence. */
export interface DecodeOptions {
  /** Most tokens to generate. */
  maxTokens: number;
  /** Temperature / top-p / top-k. */
  sampling: SamplingParams;
  /** Seed of the random stream (the same seed and prompt give the same tokens). */
  seed: number;
  /** Stops decoding (the generator throws the signal's reason) before the next step once aborted. */
  signal?: AbortSignal;
}

/**
 * Lets the event loop run I/O and timers. A wasm inference step never leaves the microtask queue, so without
 * this a whole generation would run before a timeout fires or a client's disconnect is seen. setImmediate
 * costs tens of microseconds; setTimeout(0) is clamped to milliseconds.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The weights of a model stored beside it (ONNX external data): the file name the model names, and its bytes. */
export interface ExternalData {
  /** The file name, as the model's tensors give it (e.g. `model.onnx_data`). */
  path: string;
  /** The file's contents. */
  data: Uint8Array;
}

/** What generates tokens for a {@linkcode LanguageModel}: an in-process decoder or one in a worker. */
export interface TokenGenerator {
  /** The decoder's shapes and special ids. */
  readonly config: DecoderConfig;
  /** Yields sampled token ids; leaving the loop early stops generation. One generation at a time. */
  generate(promptIds: readonly number[], options: DecodeOptions): AsyncGenerator<number>;
  /** Frees the decoder. */
  release(): Promise<void>;
}

let wasmConfigured = false;

/**
 * True once a session was created on this thread. With Deno 2.9, Web Workers started after onnxruntime-web
 * has run on the main thread come up without a working global scope, so a process uses either in-process
 * decoders or worker decoders, not both; {@linkcode WorkerDecoder.load} checks this.
 */
export function onnxRuntimeUsedOnThisThread(): boolean {
  return wasmConfigured;
}

/** Sets onnxruntime-web's wasm options once: one thread (no worker or SharedArrayBuffer needed). */
function configureWasm(): void {
  if (wasmConfigured) return;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
  wasmConfigured = true;
}

/** A loaded ONNX decoder that generates token ids with a KV cache. */
export class OnnxDecoder implements TokenGenerator {
  readonly #session: ort.InferenceSession;
  /** The decoder's shapes and special ids. */
  readonly config: DecoderConfig;
  readonly #hasPositionIds: boolean;
  readonly #hasCacheBranch: boolean;

  private constructor(session: ort.InferenceSession, config: DecoderConfig) {
    this.#session = session;
    this.config = config;
    const inputs = new Set(session.inputNames);
    const outputs = new Set(session.outputNames);
    const missing: string[] = [];
    for (const name of ["input_ids", "attention_mask"]) if (!inputs.has(name)) missing.push(`input ${name}`);
    if (!outputs.has("logits")) missing.push("output logits");
    for (let i = 0; i < config.numLayers; i++) {
      for (const kv of ["key", "value"]) {
        if (!inputs.has(`past_key_values.${i}.${kv}`)) missing.push(`input past_key_values.${i}.${kv}`);
        if (!outputs.has(`present.${i}.${kv}`)) missing.push(`output present.${i}.${kv}`);
      }
    }
    if (missing.length > 0) {
      throw new Error(
        `model.onnx does not follow the Optimum decoder convention for ${config.numLayers} layers: ` +
          `missing ${missing.join(", ")}`,
      );
    }
    this.#hasPositionIds = inputs.has("position_ids");
    this.#hasCacheBranch = inputs.has("use_cache_branch");
  }

  /** Creates an inference session for the model bytes on `provider` and checks its inputs and outputs. */
  static async load(
    model: Uint8Array,
    config: DecoderConfig,
    provider: ExecutionProvider,
    externalData?: ExternalData,
  ): Promise<OnnxDecoder> {
    configureWasm();
    if (provider === "webgpu" && !("gpu" in navigator)) {
      throw new Error("the webgpu execution provider needs navigator.gpu, which this runtime does not have");
    }
    const session = await ort.InferenceSession.create(model, {
      executionProviders: [provider],
      graphOptimizationLevel: "all",
      ...(externalData ? { externalData: [{ path: externalData.path, data: externalData.data }] } : {}),
    });
    return new OnnxDecoder(session, config);
  }

  /**
   * Yields sampled token ids one at a time: the prompt is run once, then one step per token with the KV
   * cache. Stops after `maxTokens` tokens or when the context is full; the caller stops earlier (an end of
   * sequence, a stop string) by leaving its `for await` loop, which costs no extra step.
   */
  async *generate(promptIds: readonly number[], options: DecodeOptions): AsyncGenerator<number> {
    const { numLayers, numKvHeads, headDim, vocabSize, contextLength } = this.config;
    if (promptIds.length === 0) throw new RangeError("generate: the prompt has no tokens");
    const sampler = new TokenSampler(
      Math.min(vocabSize, this.config.sampledVocabSize ?? vocabSize),
      options.sampling,
    );
    const rng = createRng(options.seed);
    const past = new Map<string, ort.Tensor>();
    for (let i = 0; i < numLayers; i++) {
      for (const kv of ["key", "value"]) {
        past.set(
          `past_key_values.${i}.${kv}`,
          new ort.Tensor("float32", new Float32Array(0), [1, numKvHeads, 0, headDim]),
        );
      }
    }
    let pastLength = 0;
    let step: readonly number[] = promptIds;
    for (let produced = 0; produced < options.maxTokens; produced++) {
      if (pastLength + step.length > contextLength) return;
      if (produced > 0) await yieldToEventLoop();
      options.signal?.throwIfAborted();
      const total = pastLength + step.length;
      const feeds: Record<string, ort.Tensor> = Object.fromEntries(past);
      feeds.input_ids = new ort.Tensor("int64", BigInt64Array.from(step, BigInt), [1, step.length]);
      feeds.attention_mask = new ort.Tensor("int64", new BigInt64Array(total).fill(1n), [1, total]);
      if (this.#hasPositionIds) {
        const positions = BigInt64Array.from({ length: step.length }, (_, j) => BigInt(pastLength + j));
        feeds.position_ids = new ort.Tensor("int64", positions, [1, step.length]);
      }
      if (this.#hasCacheBranch) feeds.use_cache_branch = new ort.Tensor("bool", [pastLength > 0], [1]);
      const out = await this.#session.run(feeds);
      const logits = out.logits;
      if (logits.dims.length !== 3 || logits.dims[2] !== vocabSize || logits.dims[1] !== step.length) {
        throw new Error(
          `model.onnx gave logits of shape [${logits.dims}], expected [1, ${step.length}, ${vocabSize}]`,
        );
      }
      const token = sampler.sample(logits.data as Float32Array, rng, (step.length - 1) * vocabSize);
      for (let i = 0; i < numLayers; i++) {
        for (const kv of ["key", "value"]) {
          const present = out[`present.${i}.${kv}`];
          if (present.dims[2] !== total) {
            throw new Error(
              `model.onnx gave present.${i}.${kv} with ${present.dims[2]} positions, expected ${total}`,
            );
          }
          past.set(`past_key_values.${i}.${kv}`, present);
        }
      }
      pastLength = total;
      step = [token];
      yield token;
    }
  }

  /** Frees the inference session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}
