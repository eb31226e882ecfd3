/**
 * Batched autoregressive sampling with a KV cache on a {@linkcode Backend}: the trainer's rollout sampler and
 * greedy decoding for evaluation.
 *
 * How a call to {@linkcode generate} runs:
 * 1. Prefill: the P prompts are right-padded to the longest and encoded once, as one batch, straight into the
 *    KV cache slot of the first of each prompt's K samples; the prompt's cache is then copied to its other K-1
 *    slots. The K samples' first tokens are drawn from the prompt's last-position logits.
 * 2. Decode: the K x P sequences advance one token per step as one batch (one query row each, attending to its
 *    own cache). Only the last-position logits `[batch, vocab]` come back to the host, where each sequence draws
 *    its token with its own seeded random stream ({@linkcode TokenSampler}).
 * 3. A sequence finishes on a stop token ("stop", the stop token kept as its last token) or after
 *    `maxNewTokens` tokens ("length"). Finished sequences leave the batch: the last active sequence's cache is
 *    moved into the freed slot, so later steps only compute the live ones.
 *
 * The forward pass is the model's own KV-cached one ({@linkcode Model.forwardCached}, {@linkcode Model.lmLogits}),
 * so sampling and training compute the same function.
 *
 * Every sequence draws from its own stream seeded by (seed, prompt index, sample index), so the same seed,
 * prompts, model and backend give the same tokens, whatever order the sequences finish in. On the CPU backend a
 * row's results do not depend on the batch it is computed in, so neither do a sequence's tokens: the prompts may be
 * split into several calls (see `promptOffset`). Other backends may round a row differently in a batch of another
 * size, which changes a sequence's tokens only where two candidates are that close.
 * All device buffers and host arrays are allocated once per call; the step loop allocates nothing sizeable.
 *
 * @module
 */

import { type Tensor, VIEW_ALIGN } from "../gpu/backend.ts";
import { cpuF32 } from "../gpu/cpu/mod.ts";
import { createRng, type Rng } from "../../core/random/mod.ts";
import { type FinishReason, StopTokens, TokenSampler } from "../../core/sampling/mod.ts";
import { headDim } from "./config.ts";
import type { KvCache, Model } from "./model.ts";

/** What decoding needs of a model: its config and backend, and its KV-cached forward pass with the LM head. */
export type DecodableModel = Pick<
  Model,
  "config" | "backend" | "createKvCache" | "freeKvCache" | "forwardCached" | "lmLogits"
>;

/** Something that decodes for a model (`DecodeReplicas` in `replicas.ts`): what {@linkcode generate} gives on it. */
export interface DelegateDecoder {
  generate(prompts: readonly ArrayLike<number>[], options: GenerateOptions): Promise<GeneratedSequence[]>;
}

/** What samples continuations: a model (through {@linkcode generate}) or a decoder acting for one. */
export type Decoder = DecodableModel | DelegateDecoder;

/** {@linkcode generate} on `decoder`: the model's own, or the delegate's. */
export function decodeWith(
  decoder: Decoder,
  prompts: readonly ArrayLike<number>[],
  options: GenerateOptions,
): Promise<GeneratedSequence[]> {
  return "generate" in decoder ? decoder.generate(prompts, options) : generate(decoder, prompts, options);
}

/** Options of {@linkcode generate}. */
export interface GenerateOptions {
  /** Samples drawn per prompt (K); they share the prompt's prefill. Default 1. */
  samplesPerPrompt?: number;
  /** The most new tokens per sequence (>= 1); a sequence cut here finishes with "length". */
  maxNewTokens: number;
  /** Softmax temperature; 0 = greedy (then every sample of a prompt is the same). */
  temperature: number;
  /** Nucleus mass in (0, 1]; default 1. */
  topP?: number;
  /** Keep the top-k tokens; 0 (default) keeps all. */
  topK?: number;
  /**
   * Only ids below this are drawn: the tokenizer's size when the model's vocabulary is padded past it (Qwen2.5's
   * 151936 rows for 151665 tokens), so that no id the tokenizer cannot decode is sampled. Default: all of them.
   */
  sampledVocab?: number;
  /** Token ids that end a sequence (kept as its last token). Default none. */
  stopTokens?: readonly number[];
  /** Seed of the sampling streams. Default 0. */
  seed?: number;
  /**
   * A seed per prompt, in place of `seed`: sample k of prompt p then draws from `sequenceSeed(promptSeeds[p], k)`,
   * the stream it gets when prompt p is generated alone with `seed: promptSeeds[p]` (rollout workers batch jobs
   * that each carry a seed of their own).
   */
  promptSeeds?: readonly number[];
  /**
   * Where these prompts start in a larger batch that was split into several calls (default 0): sample k of
   * prompt p draws from stream `sequenceSeed(seed, (promptOffset + p) * K + k)`, as in the whole call, so the
   * parts together sample what the whole would (on a backend whose rows do not depend on the batch). Returned
   * `promptIndex`es stay relative to this call's prompts. Ignored with `promptSeeds`.
   */
  promptOffset?: number;
  /** Most prompt rows encoded in one prefill call (bounds the activation memory). Default {@linkcode PREFILL_ROWS}. */
  prefillRows?: number;
  /**
   * Run each decoding step on a batch rounded up to one of a few sizes (powers of two below 64, then multiples
   * of 64; the extra rows are idle slots), so that a backend that builds a kernel per shape builds a handful,
   * not one per number of live sequences. Default: true on every backend but the CPU one.
   */
  shapeBuckets?: boolean;
}

/** One generated sequence. */
export interface GeneratedSequence {
  /** Index of its prompt in the `prompts` argument. */
  promptIndex: number;
  /** Which of the prompt's K samples it is, 0..K-1. */
  sampleIndex: number;
  /** The new tokens (the prompt excluded), ending with the stop token when `finishReason` is "stop". */
  tokens: Uint32Array;
  /** "stop": a stop token was drawn; "length": `maxNewTokens` were drawn without one. */
  finishReason: FinishReason;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * A KV cache for `sequences` sequences whose per-sequence blocks start on view boundaries, so that a sequence's
 * cache can be copied (shared prefill) or moved (compaction), and a group of sequences can be addressed as a
 * smaller cache. Also owns the buffers for the logits of up to `outputRows` rows.
 */
export class DecodeCache {
  /** Cache slots per sequence (at least the requested capacity). */
  readonly capacity: number;
  /** Sequences the cache holds. */
  readonly sequences: number;
  /** The underlying cache, all sequences. */
  readonly cache: KvCache;
  readonly #model: DecodableModel;
  readonly #block: number;
  readonly #hidden: Tensor;
  readonly #logits: Tensor;
  readonly #select: Tensor;
  readonly #outputRows: number;
  #destroyed = false;

  /** Allocates the cache of `sequences` x `minCapacity` tokens and logits buffers for `outputRows` rows. */
  constructor(model: DecodableModel, sequences: number, minCapacity: number, outputRows: number = sequences) {
    for (const [name, v] of Object.entries({ sequences, minCapacity, outputRows })) {
      if (!Number.isInteger(v) || v <= 0) {
        throw new RangeError(`DecodeCache: ${name} must be a positive integer`);
      }
    }
    const c = model.config;
    const width = c.num_key_value_heads * headDim(c);
    const align = VIEW_ALIGN / gcd(width, VIEW_ALIGN);
    this.capacity = Math.ceil(minCapacity / align) * align;
    this.sequences = sequences;
    this.#model = model;
    this.#block = this.capacity * width;
    this.#outputRows = outputRows;
    this.cache = model.createKvCache(sequences, this.capacity);
    const b = model.backend;
    this.#hidden = b.alloc(outputRows * c.hidden_size);
    this.#logits = b.alloc(outputRows * c.vocab_size);
    this.#select = b.alloc(outputRows, "i32");
  }

  /**
   * The cache of `count` sequences at slots `first + i * stride`, as one cache of `count` sequences (with
   * `stride` x the capacity; only the first `capacity` slots of each are used).
   */
  group(first: number, count: number, stride = 1): KvCache {
    this.#check();
    if (first < 0 || count <= 0 || first + (count - 1) * stride >= this.sequences) {
      throw new RangeError(
        `DecodeCache.group: slots ${first} + ${count} x ${stride} outside ${this.sequences}`,
      );
    }
    const b = this.#model.backend, c = this.cache;
    if (first === 0 && stride === 1) return { ...c, batch: count };
    const view = (t: Tensor) => b.view(t, first * this.#block, t.length - first * this.#block);
    return {
      batch: count,
      capacity: this.capacity * stride,
      keys: c.keys.map(view),
      values: c.values.map(view),
    };
  }

  /** Copies the first `tokens` cached rows of sequence `from` to sequence `to` (every layer, keys and values). */
  copySequence(from: number, to: number, tokens: number): void {
    this.#check();
    if (from === to || tokens === 0) return;
    const b = this.#model.backend, n = tokens * (this.#block / this.capacity);
    for (const t of [...this.cache.keys, ...this.cache.values]) {
      b.copy(b.view(t, from * this.#block, n), b.view(t, to * this.#block, n));
    }
  }

  /**
   * The LM logits `[rows.length, vocab]` of the given rows of `hidden` (as returned by `forwardCached`), on the
   * host: a view of device memory on the CPU backend (valid until the next call), a downloaded copy otherwise.
   * Without `rows`, the first `count` rows.
   */
  async logits(hidden: Tensor, count: number, rows?: Int32Array): Promise<Float32Array> {
    this.#check();
    if (count > this.#outputRows) {
      throw new RangeError(`DecodeCache.logits: ${count} > ${this.#outputRows} rows`);
    }
    const m = this.#model, b = m.backend, c = m.config;
    let src = hidden;
    if (rows) {
      b.upload(this.#select, rows.subarray(0, count));
      b.gatherRows({ src: hidden, indices: this.#select, out: this.#hidden, count, width: c.hidden_size });
      src = this.#hidden;
    }
    m.lmLogits(src, count, this.#logits);
    const n = count * c.vocab_size;
    if (b.name === "cpu") return cpuF32(this.#logits).subarray(0, n);
    return await b.download(b.view(this.#logits, 0, n));
  }

  /** Releases the cache and buffers. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#model.freeKvCache(this.cache);
    for (const t of [this.#hidden, this.#logits, this.#select]) this.#model.backend.free(t);
  }

  #check(): void {
    if (this.#destroyed) throw new Error("DecodeCache: used after destroy");
  }
}

/** Checks `GenerateOptions.promptSeeds` against `prompts` prompts: none, or one finite seed per prompt. */
export function checkPromptSeeds(seeds: readonly number[] | undefined, prompts: number): void {
  if (seeds !== undefined && (seeds.length !== prompts || !seeds.every(Number.isFinite))) {
    throw new RangeError(`generate: promptSeeds must be ${prompts} finite numbers, one per prompt`);
  }
}

/** Reads and checks {@linkcode GenerateOptions}; throws a RangeError naming the bad field. */
function checkOptions(o: GenerateOptions, vocab: number) {
  const samples = o.samplesPerPrompt ?? 1;
  if (!Number.isInteger(samples) || samples <= 0) {
    throw new RangeError(`generate: samplesPerPrompt must be a positive integer, got ${samples}`);
  }
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens <= 0) {
    throw new RangeError(`generate: maxNewTokens must be a positive integer, got ${o.maxNewTokens}`);
  }
  const stops = new StopTokens(o.stopTokens ?? []);
  for (const id of o.stopTokens ?? []) {
    if (id >= vocab) throw new RangeError(`generate: stop token ${id} is outside the vocabulary (${vocab})`);
  }
  const seed = o.seed ?? 0;
  if (!Number.isFinite(seed)) throw new RangeError(`generate: seed must be a finite number, got ${seed}`);
  const promptOffset = o.promptOffset ?? 0;
  if (!Number.isInteger(promptOffset) || promptOffset < 0) {
    throw new RangeError(`generate: promptOffset must be an integer >= 0, got ${o.promptOffset}`);
  }
  const prefillRows = o.prefillRows ?? PREFILL_ROWS;
  if (!Number.isInteger(prefillRows) || prefillRows <= 0) {
    throw new RangeError(`generate: prefillRows must be a positive integer, got ${prefillRows}`);
  }
  const sampled = Math.min(o.sampledVocab ?? vocab, vocab);
  if (!Number.isInteger(sampled) || sampled <= 0) {
    throw new RangeError(`generate: sampledVocab must be a positive integer, got ${o.sampledVocab}`);
  }
  return { samples, stops, seed, promptOffset, prefillRows, sampled };
}

/**
 * The seed of the random stream of sequence `index` (= promptIndex * K + sampleIndex) of a call seeded `seed`;
 * its draws are `createRng(sequenceSeed(seed, index))`, one `next()` per sampled token.
 */
export function sequenceSeed(seed: number, index: number): number {
  return (Math.floor(seed) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

/** The batch size a step with `active` live sequences runs at with shape buckets (at most `total`). */
export function batchBucket(active: number, total: number): number {
  const size = active <= 64 ? 2 ** Math.ceil(Math.log2(active)) : Math.ceil(active / 64) * 64;
  return Math.min(size, total);
}

/** Default most query rows per prefill call (prompts are prefilled in groups that fit). */
export const PREFILL_ROWS = 4096;

/**
 * Samples `samplesPerPrompt` continuations of every prompt with the model, batched, with a KV cache (see the
 * module doc). Returns the sequences prompt-major (`promptIndex * K + sampleIndex`). Throws on an empty prompt,
 * a token id outside the vocabulary, or bad options.
 */
export async function generate(
  model: DecodableModel,
  prompts: readonly ArrayLike<number>[],
  options: GenerateOptions,
): Promise<GeneratedSequence[]> {
  const c = model.config, vocab = c.vocab_size;
  const { samples: K, stops, seed, promptOffset, prefillRows, sampled } = checkOptions(options, vocab);
  const sampler = new TokenSampler(sampled, options);
  const P = prompts.length;
  if (P === 0) return [];
  const ps = options.promptSeeds;
  checkPromptSeeds(ps, P);
  let longest = 0;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new RangeError(`generate: prompt ${i} is empty`);
    for (let j = 0; j < p.length; j++) {
      const t = p[j];
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new RangeError(`generate: prompt ${i} token ${j} is ${t}, outside [0, ${vocab})`);
      }
    }
    longest = Math.max(longest, p.length);
  });
  const S = P * K, maxNew = options.maxNewTokens;
  const group = Math.max(1, Math.min(P, Math.floor(prefillRows / longest)));
  const dc = new DecodeCache(model, S, longest + maxNew, Math.max(group, S));
  try {
    const out = Array.from({ length: S }, () => new Uint32Array(maxNew));
    const count = new Int32Array(S);
    const finish: (FinishReason | null)[] = new Array(S).fill(null);
    const rngs: Rng[] = Array.from(
      { length: S },
      (_, i) =>
        createRng(ps ? sequenceSeed(ps[Math.floor(i / K)], i % K) : sequenceSeed(seed, promptOffset * K + i)),
    );
    const slotSeq = Int32Array.from({ length: S }, (_, i) => i);
    const lengths = new Int32Array(S);
    const tokens = new Int32Array(Math.max(group * longest, S));
    const select = new Int32Array(group);
    const empty = new Int32Array(group); // cache lengths before the prefill

    /** Appends a drawn token to sequence `seq` and marks it finished on a stop token or at the limit. */
    const push = (seq: number, token: number): void => {
      out[seq][count[seq]++] = token;
      if (stops.has(token)) finish[seq] = "stop";
      else if (count[seq] === maxNew) finish[seq] = "length";
    };

    // Prefill, a group of prompts at a time, into the first slot of each prompt's K.
    for (let p0 = 0; p0 < P; p0 += group) {
      const g = Math.min(group, P - p0);
      tokens.fill(0, 0, g * longest);
      const sel = select.subarray(0, g);
      for (let i = 0; i < g; i++) {
        const prompt = prompts[p0 + i];
        for (let j = 0; j < prompt.length; j++) tokens[i * longest + j] = prompt[j];
        sel[i] = i * longest + prompt.length - 1;
      }
      const hidden = model.forwardCached(
        dc.group(p0 * K, g, K),
        tokens.subarray(0, g * longest),
        longest,
        empty.subarray(0, g),
      );
      const logits = await dc.logits(hidden, g, sel);
      for (let i = 0; i < g; i++) {
        const p = p0 + i, len = prompts[p].length;
        for (let j = 0; j < K; j++) {
          const seq = p * K + j;
          dc.copySequence(p * K, seq, len);
          push(seq, sampler.sample(logits, rngs[seq], i * vocab));
        }
      }
    }
    for (let i = 0; i < S; i++) lengths[i] = prompts[Math.floor(i / K)].length;

    let active = S;
    const compact = () => {
      for (let slot = active - 1; slot >= 0; slot--) {
        if (finish[slotSeq[slot]] === null) continue;
        const last = active - 1;
        if (slot !== last) {
          dc.copySequence(last, slot, lengths[last]);
          slotSeq[slot] = slotSeq[last];
          lengths[slot] = lengths[last];
        }
        active--;
      }
    };
    compact();
    const buckets = options.shapeBuckets ?? model.backend.name !== "cpu";
    while (active > 0) {
      for (let slot = 0; slot < active; slot++) {
        const seq = slotSeq[slot];
        tokens[slot] = out[seq][count[seq] - 1];
      }
      const rows = buckets ? batchBucket(active, S) : active;
      // Idle slots (finished sequences' leftovers) run token 0 at cache slot 0; their results are ignored.
      tokens.fill(0, active, rows);
      lengths.fill(0, active, rows);
      const hidden = model.forwardCached(
        dc.group(0, rows),
        tokens.subarray(0, rows),
        1,
        lengths.subarray(0, rows),
      );
      const logits = await dc.logits(hidden, rows);
      for (let slot = 0; slot < active; slot++) {
        const seq = slotSeq[slot];
        lengths[slot]++;
        push(seq, sampler.sample(logits, rngs[seq], slot * vocab));
      }
      compact();
    }
    return out.map((t, seq) => ({
      promptIndex: Math.floor(seq / K),
      sampleIndex: seq % K,
      tokens: t.slice(0, count[seq]),
      finishReason: finish[seq] as FinishReason,
    }));
  } finally {
    dc.destroy();
  }
}

/** Greedy decoding (temperature 0), one sequence per prompt: the evaluation path. */
export function generateGreedy(
  model: DecodableModel,
  prompts: readonly ArrayLike<number>[],
  options: { maxNewTokens: number; stopTokens?: readonly number[] },
): Promise<GeneratedSequence[]> {
  return generate(model, prompts, { ...options, temperature: 0, samplesPerPrompt: 1 });
}
