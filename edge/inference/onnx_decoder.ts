/**
 * Autoregressive decoding with an ONNX decoder in the Hugging Face Optimum convention, on onnxruntime-web:
 * inputs `input_ids` [b, s], `attention_mask` [b, past + s], `position_ids` [b, s] (when the graph has it) and
 * `past_key_values.N.key` / `.value` [b, kv_heads, past, head_dim]; outputs `logits` [b, s, vocab] and
 * `present.N.key` / `.value`, fed back as the next step's past (the KV cache). Generations under way at once
 * are rows of one decode batch (`decode_batch.ts`). Only float32 caches are supported. The `wasm` provider
 * runs anywhere; `webgpu` needs `navigator.gpu`.
 *
 * @module
 */

import * as ort from "onnxruntime-web/all";
import { DecodeBatch, type DecodeOptions, type DecodeStats } from "./decode_batch.ts";
import type { DecoderConfig } from "./model_config.ts";

/** Where the model runs: onnxruntime-web's `wasm` (CPU) or `webgpu` execution provider. */
export type ExecutionProvider = "wasm" | "webgpu";

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
  /** The most generations it runs at once, decoded together in one batch. */
  readonly maxBatch: number;
  /** Its decode steps so far. */
  readonly stats: Readonly<DecodeStats>;
  /**
   * Yields sampled token ids; leaving the loop early stops generation. Up to {@linkcode maxBatch} generations
   * at once; one more throws.
   */
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

/**
 * A loaded ONNX decoder that generates token ids with a KV cache; concurrent generations share its decode
 * steps (see {@linkcode DecodeBatch}).
 */
export class OnnxDecoder implements TokenGenerator {
  readonly #session: ort.InferenceSession;
  readonly #batch: DecodeBatch;
  /** The decoder's shapes and special ids. */
  readonly config: DecoderConfig;

  private constructor(
    session: ort.InferenceSession,
    config: DecoderConfig,
    maxBatch: number,
    onProgress?: (stats: Readonly<DecodeStats>) => void,
  ) {
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
    this.#batch = new DecodeBatch(
      config,
      (feeds) => session.run(feeds),
      ort.Tensor,
      { positionIds: inputs.has("position_ids"), cacheBranch: inputs.has("use_cache_branch") },
      maxBatch,
      onProgress,
    );
  }

  /**
   * Creates an inference session for the model bytes on `provider` and checks its inputs and outputs. Up to
   * `maxBatch` generations (default 1) run at once, in one decode batch; `onProgress` gets its counters after
   * every prompt run and decode step.
   */
  static async load(
    model: Uint8Array,
    config: DecoderConfig,
    provider: ExecutionProvider,
    externalData?: ExternalData,
    maxBatch = 1,
    onProgress?: (stats: Readonly<DecodeStats>) => void,
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
    return new OnnxDecoder(session, config, maxBatch, onProgress);
  }

  /** The most generations at once (1 for a graph without `position_ids`, whose rows cannot be padded). */
  get maxBatch(): number {
    return this.#batch.maxBatch;
  }

  /** Decode steps so far. */
  get stats(): Readonly<DecodeStats> {
    return this.#batch.stats;
  }

  /**
   * Yields sampled token ids one at a time: the prompt is run once, then one decode step per token with the
   * KV cache, shared with the other generations under way. Stops after `maxTokens` tokens, after a stop id
   * or when the context is full; the caller stops earlier by leaving its `for await` loop.
   */
  generate(promptIds: readonly number[], options: DecodeOptions): AsyncGenerator<number> {
    return this.#batch.generate(promptIds, options);
  }

  /** Frees the inference session. */
  async release(): Promise<void> {
    await this.#session.release();
  }
}
