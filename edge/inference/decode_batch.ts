/**
 * Continuous batching over one ONNX decoder (Hugging Face Optimum convention): every generation under way is a
 * row of one decode batch, and generations join and leave it between decode steps.
 *
 * How the loop runs, while any generation is under way:
 * 1. Rows whose consumer left (early stop, abort) or that finished are dropped.
 * 2. New generations are prefilled, one run per distinct prompt (the `n` choices of a request share theirs),
 *    and each draws its first token from the prompt's last logits.
 * 3. One decode step advances every row by one token: `input_ids` [B, 1], `position_ids` [B, 1] (each row's
 *    own position), and the rows' KV caches right-aligned in `past_key_values` [B, kv_heads, L, head_dim],
 *    L the longest row; a shorter row's leading columns are zeros that its `attention_mask` row masks out.
 *    Each row draws its token from its own logits with its own seeded random stream, so a row gets the tokens
 *    it would get decoded alone (up to rounding in the model's batched arithmetic).
 *
 * The caches are copied only when the set of rows changes (a join or a leave), and then trimmed to the longest
 * remaining row. Tokens are handed to each generation's consumer without waiting for it: a consumer that does
 * not read holds at most its `maxTokens` tokens here, never the batch.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type * as ort from "onnxruntime-web/all";
import { createRng, type Rng } from "../../core/random/mod.ts";
import { type SamplingParams, TokenSampler } from "../../core/sampling/mod.ts";
import type { DecoderConfig } from "./model_config.ts";

/** How to sample one sequence. */
export interface DecodeOptions {
  /** Most tokens to generate. */
  maxTokens: number;
  /** Temperature / top-p / top-k. */
  sampling: SamplingParams;
  /** Seed of the random stream (the same seed and prompt give the same tokens). */
  seed: number;
  /** Token ids after which the sequence ends (the id itself is still yielded). Default none. */
  stopIds?: readonly number[];
  /** Stops decoding (the generator throws the signal's reason) before the next token once aborted. */
  signal?: AbortSignal;
}

/** Counters of a decoder's work since it was loaded. */
export interface DecodeStats {
  /** Decode steps run (one token for every row of the batch). */
  steps: number;
  /** Rows summed over decode steps: the tokens the steps produced. `sequenceSteps / steps` is the mean batch. */
  sequenceSteps: number;
  /** The most rows one decode step ran. */
  peakBatch: number;
  /** Prompt runs (one per distinct prompt joining the batch). */
  prefills: number;
}

/** Runs the model once: named inputs in, named outputs out (an `InferenceSession`'s `run`). */
export type StepRunner = (feeds: Record<string, ort.Tensor>) => Promise<Record<string, ort.Tensor>>;

/** What the batch needs of onnxruntime: its tensor constructor (kept apart so a worker loads ort once). */
export type TensorConstructor = typeof ort.Tensor;

/** Which optional inputs the model's graph has. */
export interface GraphInputs {
  /** `position_ids`: without it positions follow the mask, so rows cannot be padded (batch of one). */
  positionIds: boolean;
  /** `use_cache_branch` (Optimum's merged decoders). */
  cacheBranch: boolean;
}

/**
 * Lets the event loop run I/O and timers (joins, cancels, the server's requests) between steps. A wasm
 * inference step never leaves the microtask queue; setImmediate costs tens of microseconds, setTimeout(0)
 * is clamped to milliseconds.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One generation: its sampling state, its place in the batch and the tokens its consumer has not taken. */
interface Row {
  readonly prompt: readonly number[];
  readonly sampler: TokenSampler;
  readonly rng: Rng;
  readonly maxTokens: number;
  readonly stopIds: ReadonlySet<number>;
  produced: number;
  /** Tokens in its KV cache. */
  length: number;
  /** The token the next step feeds. */
  next: number;
  /** Its index in the batch cache, or -1 while its cache is `prefill`. */
  slot: number;
  /** Its prompt's cache ([1, heads, length, dim]) until it is copied into the batch. */
  prefill?: Map<string, ort.Tensor>;
  /** Finished (no more tokens will come) or left by its consumer. */
  ended: boolean;
  tokens: number[];
  error?: unknown;
  wake?: () => void;
}

/** A decode batch that generations join and leave between steps. */
export class DecodeBatch {
  /** The most generations decoded together; {@linkcode generate} refuses more. */
  readonly maxBatch: number;
  /** Work done so far. */
  readonly stats: DecodeStats = { steps: 0, sequenceSteps: 0, peakBatch: 0, prefills: 0 };
  readonly #config: DecoderConfig;
  readonly #run: StepRunner;
  readonly #Tensor: TensorConstructor;
  readonly #inputs: GraphInputs;
  readonly #onProgress?: (stats: Readonly<DecodeStats>) => void;
  #rows: Row[] = [];
  #joining: Row[] = [];
  #live = 0;
  #looping = false;
  /** The batch's caches, [rows, kv_heads, cacheLength, head_dim] per input name. */
  #cache = new Map<string, ort.Tensor>();
  #cacheLength = 0;

  /**
   * A batch of at most `maxBatch` rows (1 when the graph has no `position_ids`) over `run`. `onProgress` gets
   * the counters after every prompt run and decode step.
   */
  constructor(
    config: DecoderConfig,
    run: StepRunner,
    Tensor: TensorConstructor,
    inputs: GraphInputs,
    maxBatch: number,
    onProgress?: (stats: Readonly<DecodeStats>) => void,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`DecodeBatch: maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.#config = config;
    this.#run = run;
    this.#Tensor = Tensor;
    this.#inputs = inputs;
    this.maxBatch = inputs.positionIds ? maxBatch : 1;
    this.#onProgress = onProgress;
  }

  /** Generations under way (at most {@linkcode maxBatch}). */
  get active(): number {
    return this.#live;
  }

  /**
   * Yields sampled token ids one at a time; the sequence ends after `maxTokens` tokens, after a stop id, or
   * when the context is full. Leaving the `for await` loop early takes the row out of the batch before the
   * next step. Throws when {@linkcode maxBatch} generations are already under way.
   */
  async *generate(promptIds: readonly number[], options: DecodeOptions): AsyncGenerator<number> {
    if (promptIds.length === 0) throw new RangeError("generate: the prompt has no tokens");
    const signal = options.signal;
    signal?.throwIfAborted();
    if (this.#live >= this.maxBatch) {
      throw new Error(`DecodeBatch: ${this.maxBatch} generations are already under way`);
    }
    const { vocabSize, sampledVocabSize } = this.#config;
    const row: Row = {
      prompt: [...promptIds],
      sampler: new TokenSampler(Math.min(vocabSize, sampledVocabSize ?? vocabSize), options.sampling),
      rng: createRng(options.seed),
      maxTokens: options.maxTokens,
      stopIds: new Set(options.stopIds ?? []),
      produced: 0,
      length: 0,
      next: -1,
      slot: -1,
      ended: options.maxTokens < 1 || promptIds.length > this.#config.contextLength,
      tokens: [],
    };
    if (row.ended) return;
    const onAbort = () => row.wake?.();
    signal?.addEventListener("abort", onAbort);
    this.#live++;
    this.#joining.push(row);
    this.#startLoop();
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (row.tokens.length > 0) {
          yield row.tokens.shift() as number;
          continue;
        }
        if (row.error !== undefined) throw row.error;
        if (row.ended) return;
        await new Promise<void>((resolve) => row.wake = resolve);
        row.wake = undefined;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      row.ended = true;
      this.#live--;
    }
  }

  #startLoop(): void {
    if (this.#looping) return;
    this.#looping = true;
    this.#loop().finally(() => this.#looping = false);
  }

  async #loop(): Promise<void> {
    while (this.#rows.length > 0 || this.#joining.length > 0) {
      // Generations asked for in the same turn of the event loop (a request's n choices) join together.
      await yieldToEventLoop();
      const joining = this.#joining.splice(0).filter((r) => !r.ended);
      try {
        for (const group of groupByPrompt(joining)) await this.#prefill(group);
        const staying = this.#rows.filter((r) => !r.ended);
        const joined = joining.filter((r) => !r.ended);
        if (staying.length !== this.#rows.length || joined.length > 0) this.#regroup([...staying, ...joined]);
        if (this.#rows.length > 0) await this.#step();
      } catch (err) {
        for (const row of [...this.#rows, ...joining]) this.#fail(row, err);
        this.#rows = [];
        this.#cache = new Map();
        this.#cacheLength = 0;
      }
    }
  }

  /** Runs a prompt once for every row of `group` (they share it) and draws each row's first token. */
  async #prefill(group: Row[]): Promise<void> {
    const { numLayers, numKvHeads, headDim, vocabSize } = this.#config;
    const prompt = group[0].prompt;
    const n = prompt.length;
    const T = this.#Tensor;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of cacheNames(numLayers)) {
      feeds[name] = new T("float32", new Float32Array(0), [1, numKvHeads, 0, headDim]);
    }
    feeds.input_ids = new T("int64", BigInt64Array.from(prompt, BigInt), [1, n]);
    feeds.attention_mask = new T("int64", new BigInt64Array(n).fill(1n), [1, n]);
    if (this.#inputs.positionIds) {
      feeds.position_ids = new T("int64", BigInt64Array.from({ length: n }, (_, j) => BigInt(j)), [1, n]);
    }
    if (this.#inputs.cacheBranch) feeds.use_cache_branch = new T("bool", [false], [1]);
    const out = await this.#run(feeds);
    this.stats.prefills++;
    this.#onProgress?.(this.stats);
    checkLogits(out.logits, 1, n, vocabSize);
    const prefill = presents(out, numLayers, n);
    for (const row of group) {
      row.length = n;
      row.prefill = prefill;
      this.#take(row, row.sampler.sample(out.logits.data as Float32Array, row.rng, (n - 1) * vocabSize));
    }
  }

  /** One token for every row. */
  async #step(): Promise<void> {
    const { numLayers, vocabSize } = this.#config;
    const rows = this.#rows;
    const b = rows.length, width = this.#cacheLength + 1;
    const T = this.#Tensor;
    const feeds: Record<string, ort.Tensor> = Object.fromEntries(this.#cache);
    feeds.input_ids = new T("int64", BigInt64Array.from(rows, (r) => BigInt(r.next)), [b, 1]);
    const mask = new BigInt64Array(b * width);
    rows.forEach((r, i) => mask.fill(1n, i * width + width - r.length - 1, (i + 1) * width));
    feeds.attention_mask = new T("int64", mask, [b, width]);
    if (this.#inputs.positionIds) {
      feeds.position_ids = new T("int64", BigInt64Array.from(rows, (r) => BigInt(r.length)), [b, 1]);
    }
    if (this.#inputs.cacheBranch) feeds.use_cache_branch = new T("bool", [true], [1]);
    const out = await this.#run(feeds);
    checkLogits(out.logits, b, 1, vocabSize);
    this.#cache = presents(out, numLayers, width);
    this.#cacheLength = width;
    this.stats.steps++;
    this.stats.sequenceSteps += b;
    this.stats.peakBatch = Math.max(this.stats.peakBatch, b);
    this.#onProgress?.(this.stats);
    const logits = out.logits.data as Float32Array;
    rows.forEach((row, i) => {
      row.length++;
      if (!row.ended) this.#take(row, row.sampler.sample(logits, row.rng, i * vocabSize));
    });
  }

  /** Hands `token` to the row's consumer and ends the row when it is done. */
  #take(row: Row, token: number): void {
    row.produced++;
    row.next = token;
    row.tokens.push(token);
    if (
      row.produced >= row.maxTokens || row.stopIds.has(token) || row.length + 1 > this.#config.contextLength
    ) row.ended = true;
    row.wake?.();
  }

  #fail(row: Row, err: unknown): void {
    if (row.ended) return;
    row.error = err;
    row.ended = true;
    row.wake?.();
  }

  /**
   * Makes `rows` the batch: copies each row's cache (from the batch or from its prefill) right-aligned into
   * caches as wide as the longest row; the columns before a shorter row's tokens stay zero (masked out).
   */
  #regroup(rows: Row[]): void {
    const { numLayers, numKvHeads: heads, headDim: dim } = this.#config;
    const width = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const cache = new Map<string, ort.Tensor>();
    for (const name of cacheNames(numLayers)) {
      const out = new Float32Array(rows.length * heads * width * dim);
      rows.forEach((row, b) => {
        const source = row.prefill?.get(name) ?? (this.#cache.get(name) as ort.Tensor);
        const data = source.data as Float32Array;
        const from = row.prefill ? 0 : row.slot, sourceWidth = source.dims[2];
        for (let h = 0; h < heads; h++) {
          const start = ((from * heads + h) * sourceWidth + sourceWidth - row.length) * dim;
          out.set(
            data.subarray(start, start + row.length * dim),
            ((b * heads + h) * width + width - row.length) * dim,
          );
        }
      });
      cache.set(name, new this.#Tensor("float32", out, [rows.length, heads, width, dim]));
    }
    rows.forEach((row, b) => {
      row.slot = b;
      row.prefill = undefined;
    });
    this.#rows = rows;
    this.#cache = cache;
    this.#cacheLength = width;
  }
}

/** The cache inputs, `past_key_values.N.key` / `.value`, in layer order. */
function cacheNames(numLayers: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < numLayers; i++) names.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
  return names;
}

/** A run's `present.N.*` outputs under the matching `past_key_values.N.*` names, checked to be `width` long. */
function presents(
  out: Record<string, ort.Tensor>,
  numLayers: number,
  width: number,
): Map<string, ort.Tensor> {
  const cache = new Map<string, ort.Tensor>();
  for (let i = 0; i < numLayers; i++) {
    for (const kv of ["key", "value"]) {
      const present = out[`present.${i}.${kv}`];
      if (present.dims[2] !== width) {
        throw new Error(
          `model.onnx gave present.${i}.${kv} with ${present.dims[2]} positions, expected ${width}`,
        );
      }
      cache.set(`past_key_values.${i}.${kv}`, present);
    }
  }
  return cache;
}

function checkLogits(logits: ort.Tensor, batch: number, length: number, vocab: number): void {
  const d = logits.dims;
  if (d.length !== 3 || d[0] !== batch || d[1] !== length || d[2] !== vocab) {
    throw new Error(`model.onnx gave logits of shape [${d}], expected [${batch}, ${length}, ${vocab}]`);
  }
}

/** Rows grouped by identical prompts, in order of first appearance. */
function groupByPrompt(rows: Row[]): Row[][] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = row.prompt.join(",");
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()];
}
