/**
 * The Qwen2-style decoder on top of a compute {@linkcode Backend}: forward over a right-padded batch with saved
 * activations, backward driven by one coefficient per token (or per score for the token reward model), AdamW
 * with global gradient-norm clipping, and a KV-cached forward for incremental decoding. Parameters, gradients
 * and optimiser moments each live in one flat device buffer with named views (Hugging Face names).
 *
 * @module
 */

import type { Backend, Tensor } from "../gpu/backend.ts";
import { headDim, type ModelConfig, validateConfig } from "./config.ts";
import { type HeadKind, initialValues, layerName, type ParamLayout, paramLayout } from "./params.ts";
import { batchRows, type TokenBatch, validateBatch } from "./batch.ts";
import { type Acts, actsView, allocActs, allocStepActs, freeActs, type StepActs } from "./activations.ts";

/** Options of {@linkcode createModel}. */
export interface CreateModelOptions {
  /** Seed of the parameter initialisation. */
  seed: number;
  /** `"lm"` (default): next-token head; `"scalar"`: one score per token, initialised to zero (token RM). */
  head?: HeadKind;
}

/** AdamW's moment decay rates and epsilon (PyTorch's defaults): every optimiser step of the trainer uses them. */
/**
 * Most floats one AdamW call updates: adjacent parameter tensors share a call up to this size (64 MiB, within a
 * WebGPU storage binding's default limit); a larger tensor gets a call of its own.
 */
const ADAMW_GROUP = 1 << 24;

export const ADAMW_DEFAULTS: Readonly<{ beta1: number; beta2: number; eps: number }> = Object.freeze({
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
});

/** Hyper-parameters of one optimiser step. */
export interface StepOptions {
  lr: number;
  /** Decoupled weight decay, applied to every parameter (default 0). */
  weightDecay?: number;
  /** Default {@linkcode ADAMW_DEFAULTS}. */
  beta1?: number;
  /** Default {@linkcode ADAMW_DEFAULTS}. */
  beta2?: number;
  /** Default {@linkcode ADAMW_DEFAULTS}. */
  eps?: number;
  /** Clip the global gradient norm to this value (PyTorch `clip_grad_norm_`); 0 or absent: no clipping. */
  maxGradNorm?: number;
}

/** Per-position results of a log-probability pass (`batch * seqLen`, 0 where the mask is 0). */
export interface LogprobResult {
  logprobs: Float32Array;
  entropies: Float32Array;
}

/** AdamW state, by parameter name. */
export interface OptimizerState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/**
 * The tensors of one decoder block's forward ({@linkcode Model}'s `#decoderBlock`): its input `x`, the residual
 * after attention `mid` and the output `out` (any of them the same tensor when the residual is updated in place),
 * the scratch of each stage, and the `rows` token positions.
 */
interface BlockBuffers {
  x: Tensor;
  mid: Tensor;
  out: Tensor;
  ln1: Tensor;
  rstd1: Tensor;
  ln2: Tensor;
  rstd2: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  gate: Tensor;
  up: Tensor;
  h: Tensor;
  positions: Tensor;
  rows: number;
}

/** Key/value caches of every layer for incremental decoding of `batch` sequences of up to `capacity` tokens. */
export interface KvCache {
  readonly batch: number;
  readonly capacity: number;
  readonly keys: Tensor[];
  readonly values: Tensor[];
}

/** Creates a model with seeded initial parameters on `backend`. */
export function createModel(config: ModelConfig, backend: Backend, opts: CreateModelOptions): Model {
  const model = new Model(config, backend, opts.head ?? "lm");
  for (const [spec, data] of initialValues(model.layout, opts.seed)) {
    backend.upload(model.params, data, spec.offset);
  }
  return model;
}

/** A Qwen2-style decoder with an LM head or a scalar (token reward) head. Create it with {@linkcode createModel}. */
export class Model {
  /** Architecture. */
  readonly config: ModelConfig;
  /** Where the tensors live. */
  readonly backend: Backend;
  /** The head on top of the body. */
  readonly head: HeadKind;
  /** Names, shapes and offsets of the parameters. */
  readonly layout: ParamLayout;
  /** All parameters, flat. */
  readonly params: Tensor;
  /** Gradients, same layout as `params`. */
  readonly grads: Tensor;
  #m: Tensor | null = null;
  #v: Tensor | null = null;
  #momentViews: { m: Tensor; v: Tensor }[] | null = null;
  /** Views of parameters, gradients and moments over runs of adjacent tensors, one AdamW call each. */
  #updateGroups: { params: Tensor; grads: Tensor; m: Tensor; v: Tensor }[] | null = null;
  #step = 0;
  #p = new Map<string, Tensor>();
  #g = new Map<string, Tensor>();
  /** Activation storage for the most rows seen so far, and `#acts`, views of it for the last batch's shape. */
  #actsStorage: Acts | null = null;
  #acts: Acts | null = null;
  #stepActs: StepActs | null = null;
  #normBuf: Tensor;
  #version = 0;
  /** The batch and weights the activations in `#acts` are of, with the LM head's active rows. */
  #lastForward: { batch: TokenBatch; version: number; count: number; active: Int32Array } | null = null;
  #freed = false;

  /** Allocates zeroed parameters (use {@linkcode createModel} for initialised ones). */
  constructor(config: ModelConfig, backend: Backend, head: HeadKind) {
    validateConfig(config);
    this.config = { ...config };
    this.backend = backend;
    this.head = head;
    this.layout = paramLayout(config, head);
    this.params = backend.alloc(this.layout.total);
    this.grads = backend.alloc(this.layout.total);
    for (const s of this.layout.specs) {
      this.#p.set(s.name, backend.view(this.params, s.offset, s.size));
      this.#g.set(s.name, backend.view(this.grads, s.offset, s.size));
    }
    this.#normBuf = backend.alloc(64);
  }

  /** Number of parameters (padding excluded). */
  get parameterCount(): number {
    return this.layout.count;
  }

  /** Number of optimiser steps taken. */
  get stepCount(): number {
    return this.#step;
  }

  /** The device view of parameter `name`. */
  param(name: string): Tensor {
    const t = this.#p.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return t;
  }

  /** The device view of the gradient of parameter `name`. */
  grad(name: string): Tensor {
    const t = this.#g.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return t;
  }

  /** Overwrites parameter `name` with host values (its exact size). */
  setParam(name: string, data: Float32Array): void {
    const spec = this.layout.byName.get(name);
    if (!spec) throw new Error(`model has no parameter "${name}"`);
    if (data.length !== spec.size) {
      throw new RangeError(
        `parameter "${name}": got ${data.length} values, expected ${spec.size} (${spec.shape})`,
      );
    }
    this.backend.upload(this.params, data, spec.offset);
    this.#version++;
  }

  /** Reads parameter `name` back to the host. */
  getParam(name: string): Promise<Float32Array> {
    return this.backend.download(this.param(name));
  }

  /** Changes whenever the weights do (an optimizer step, a parameter set or copied); equal weights keep it. */
  get weightsVersion(): number {
    return this.#version;
  }

  /** Every parameter, flat in `layout` order (`layout.total` floats, padding included): what `setParams` takes. */
  getParams(): Promise<Float32Array> {
    return this.backend.download(this.params);
  }

  /** Overwrites every parameter from `data`, flat in `layout` order, as {@linkcode Model.getParams} gives them. */
  setParams(data: Float32Array): void {
    if (data.length !== this.layout.total) {
      throw new RangeError(`setParams: got ${data.length} values, expected ${this.layout.total}`);
    }
    this.backend.upload(this.params, data);
    this.#version++;
  }

  /** Sets every gradient to zero. */
  zeroGrad(): void {
    this.backend.fill(this.grads, 0);
  }

  /** Log-probabilities and entropies of the masked targets, without gradients. */
  async logprobs(batch: TokenBatch): Promise<LogprobResult> {
    this.#requireHead("lm", "logprobs");
    const { acts, count, active } = this.#forward(batch);
    return await this.#readHead(acts, count, active, batch);
  }

  /**
   * Forward and backward for `L = sum_t coeffs[t] * logprob[t]`, accumulating parameter gradients; returns the
   * forward's log-probabilities and entropies. Coefficients where the mask is 0 are ignored. When the model's
   * last forward ({@linkcode Model.logprobs}) ran on this same batch object with the current weights, its
   * activations are reused, so a batch must not be modified in place between the two calls.
   */
  async forwardBackward(batch: TokenBatch, coeffs: Float32Array): Promise<LogprobResult> {
    this.#requireHead("lm", "forwardBackward");
    const n = batch.batch * batch.seqLen;
    if (coeffs.length !== n) {
      throw new RangeError(`forwardBackward: coeffs has ${coeffs.length} entries, expected ${n}`);
    }
    const { acts, count, active } = this.#forwardOrReuse(batch);
    if (count === 0) return await this.#readHead(acts, count, active, batch); // nothing counts: no gradient
    const be = this.backend, C = this.config.hidden_size, V = this.config.vocab_size;
    be.fill(acts.dHidden, 0);
    {
      const g = new Float32Array(count);
      for (let j = 0; j < count; j++) g[j] = coeffs[active[j]];
      be.upload(acts.coeffs, g);
      const rowGrad = be.view(acts.dLn, 0, count * C);
      be.lmHeadBackward({
        hidden: acts.hidden,
        weight: this.#lmWeight(),
        targets: acts.targets,
        lse: acts.headLse,
        coeffs: acts.coeffs,
        dHidden: rowGrad,
        dWeight: this.#lmWeightGrad(),
        rows: count,
        dim: C,
        vocab: V,
      });
      be.scatterAddRows({ src: rowGrad, indices: acts.active, dst: acts.dHidden, count, width: C });
    }
    this.#backward(acts);
    return await this.#readHead(acts, count, active, batch);
  }

  /** Scalar head: one score per position (`batch * seqLen`), computed from the final hidden state. */
  async scores(batch: TokenBatch): Promise<Float32Array> {
    this.#requireHead("scalar", "scores");
    const { acts } = this.#forward(batch);
    this.#scoreForward(acts);
    return (await this.backend.download(acts.scores)).subarray(0, acts.rows);
  }

  /** Scalar head backward: accumulates the gradients of `sum_t dScores[t] * score[t]`. */
  scoresBackward(batch: TokenBatch, dScores: Float32Array): void {
    this.#requireHead("scalar", "scoresBackward");
    const n = batch.batch * batch.seqLen;
    if (dScores.length !== n) {
      throw new RangeError(`scoresBackward: dScores has ${dScores.length} entries, expected ${n}`);
    }
    const { acts } = this.#forwardOrReuse(batch);
    const be = this.backend, C = this.config.hidden_size, R = acts.rows;
    be.upload(acts.scores, dScores);
    const w = this.param("score.weight"), gw = this.grad("score.weight");
    be.matmul({ a: acts.scores, b: w, out: acts.dHidden, m: R, n: C, k: 1 });
    be.matmul({ a: acts.scores, b: acts.lnf, out: gw, m: 1, n: C, k: R, transA: true, beta: 1 });
    this.#backward(acts);
  }

  /** One AdamW step over all parameters, after clipping the global gradient norm. Returns the norm (unclipped). */
  async step(opts: StepOptions): Promise<{ gradNorm: number }> {
    const { lr, weightDecay = 0, maxGradNorm = 0 } = opts;
    const beta1 = opts.beta1 ?? ADAMW_DEFAULTS.beta1, beta2 = opts.beta2 ?? ADAMW_DEFAULTS.beta2;
    const eps = opts.eps ?? ADAMW_DEFAULTS.eps;
    if (!(lr >= 0)) throw new RangeError(`step: lr must be >= 0, got ${lr}`);
    const be = this.backend;
    let first = true;
    for (const s of this.layout.specs) {
      be.sumSquares(this.#g.get(s.name)!, this.#normBuf, !first);
      first = false;
    }
    const gradNorm = Math.sqrt((await be.download(this.#normBuf))[0]);
    if (!Number.isFinite(gradNorm)) {
      throw new Error(`step: gradient norm is ${gradNorm}; parameters left unchanged`);
    }
    const gradScale = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (gradNorm + 1e-6)) : 1;
    this.#moments();
    this.#step++;
    for (const group of this.#updateGroups!) {
      be.adamw({
        ...group,
        lr,
        beta1,
        beta2,
        eps,
        weightDecay,
        step: this.#step,
        gradScale,
      });
    }
    this.#version++;
    return { gradNorm };
  }

  /** Copies every parameter that `other` also has (same name and shape); others (e.g. `score.weight`) stay. */
  async copyWeightsFrom(other: Model): Promise<void> {
    for (const s of this.layout.specs) {
      const o = other.layout.byName.get(s.name);
      if (!o) continue;
      if (o.size !== s.size) {
        throw new RangeError(`copyWeightsFrom: "${s.name}" has shape ${o.shape}, here ${s.shape}`);
      }
      if (other.backend === this.backend) this.backend.copy(other.param(s.name), this.param(s.name));
      else this.backend.upload(this.params, await other.getParam(s.name), s.offset);
    }
    this.#version++;
  }

  /** A copy with the same weights (and `head`, default this model's; a new scalar head starts at zero). */
  async clone(opts: { head?: HeadKind; backend?: Backend } = {}): Promise<Model> {
    const copy = new Model(this.config, opts.backend ?? this.backend, opts.head ?? this.head);
    await copy.copyWeightsFrom(this);
    return copy;
  }

  /** The AdamW moments and step count, by parameter name (for checkpoints). */
  async optimizerState(): Promise<OptimizerState> {
    const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
    if (this.#momentViews) {
      for (const [i, s] of this.layout.specs.entries()) {
        m.set(s.name, await this.backend.download(this.#momentViews[i].m));
        v.set(s.name, await this.backend.download(this.#momentViews[i].v));
      }
    }
    return { step: this.#step, m, v };
  }

  /** Restores the AdamW moments and step count saved by {@linkcode optimizerState}. */
  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new RangeError(`optimizer state: bad step ${state.step}`);
    }
    const be = this.backend;
    this.#moments();
    for (const s of this.layout.specs) {
      for (const [which, buf] of [[state.m, this.#m!], [state.v, this.#v!]] as const) {
        const data = which.get(s.name);
        if (!data) {
          if (state.step === 0) continue;
          throw new Error(`optimizer state: missing moments of "${s.name}"`);
        }
        if (data.length !== s.size) {
          throw new RangeError(`optimizer state: "${s.name}" has ${data.length} values`);
        }
        be.upload(buf, data, s.offset);
      }
    }
    this.#step = state.step;
  }

  /** Allocates per-layer key/value caches for `batch` sequences of up to `capacity` tokens. */
  createKvCache(batch: number, capacity: number): KvCache {
    if (!(batch > 0 && capacity > 0)) {
      throw new RangeError(`createKvCache: bad batch ${batch} or capacity ${capacity}`);
    }
    const width = this.config.num_key_value_heads * headDim(this.config);
    const keys: Tensor[] = [], values: Tensor[] = [];
    for (let l = 0; l < this.config.num_hidden_layers; l++) {
      keys.push(this.backend.alloc(batch * capacity * width));
      values.push(this.backend.alloc(batch * capacity * width));
    }
    return { batch, capacity, keys, values };
  }

  /** Releases a cache made by {@linkcode createKvCache}. */
  freeKvCache(cache: KvCache): void {
    for (const t of [...cache.keys, ...cache.values]) this.backend.free(t);
  }

  /**
   * Runs `queryLen` new tokens per sequence through the model with a KV cache (prefill or one decoding step).
   * Token `(b, i)` sits at position `lengths[b] + i`, where `lengths[b]` counts the tokens already cached for
   * sequence `b`; its key and value are written to the cache. Returns the final-norm hidden states
   * `[batch * queryLen, hidden]` (owned by the model, valid until the next call); feed rows of it to
   * {@linkcode lmLogits}. The caller advances `lengths` by the number of real tokens it keeps.
   */
  forwardCached(cache: KvCache, tokens: Int32Array, queryLen: number, lengths: Int32Array): Tensor {
    const B = cache.batch, rows = B * queryLen;
    if (tokens.length !== rows) {
      throw new RangeError(`forwardCached: ${tokens.length} tokens, expected ${rows}`);
    }
    if (lengths.length !== B) throw new RangeError(`forwardCached: ${lengths.length} lengths, expected ${B}`);
    const V = this.config.vocab_size;
    for (let i = 0; i < rows; i++) {
      if (tokens[i] < 0 || tokens[i] >= V) {
        throw new RangeError(`forwardCached: token ${tokens[i]} outside [0, ${V})`);
      }
    }
    for (let b = 0; b < B; b++) {
      if (lengths[b] < 0 || lengths[b] + queryLen > cache.capacity) {
        throw new RangeError(
          `forwardCached: sequence ${b} would hold ${lengths[b] + queryLen} > ${cache.capacity}`,
        );
      }
    }
    const be = this.backend, cfg = this.config;
    const C = cfg.hidden_size, D = headDim(cfg);
    const H = cfg.num_attention_heads, KV = cfg.num_key_value_heads;
    const a = this.#stepActsFor(rows);
    const positions = new Int32Array(rows);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < queryLen; i++) positions[b * queryLen + i] = lengths[b] + i;
    }
    be.upload(a.tokens, tokens);
    be.upload(a.positions, positions);
    be.upload(a.lengths, lengths);
    const x = be.view(a.x, 0, rows * C);
    be.embeddingForward({
      tokens: a.tokens,
      table: this.param("model.embed_tokens.weight"),
      out: x,
      rows,
      dim: C,
    });
    const io: BlockBuffers = {
      x,
      mid: x,
      out: x,
      ln1: a.ln,
      rstd1: a.rstd,
      ln2: a.ln,
      rstd2: a.rstd,
      q: a.q,
      k: a.k,
      v: a.v,
      att: a.att,
      gate: a.gate,
      up: a.up,
      h: a.h,
      positions: a.positions,
      rows,
    };
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      this.#decoderBlock(l, io, () => {
        const shape = { batch: B, queryLen, capacity: cache.capacity, width: KV * D };
        be.kvCacheWrite({ src: a.k, cache: cache.keys[l], lengths: a.lengths, ...shape });
        be.kvCacheWrite({ src: a.v, cache: cache.values[l], lengths: a.lengths, ...shape });
        be.attentionCached({
          q: a.q,
          kCache: cache.keys[l],
          vCache: cache.values[l],
          lengths: a.lengths,
          out: a.att,
          batch: B,
          queryLen,
          capacity: cache.capacity,
          heads: H,
          kvHeads: KV,
          headDim: D,
        });
      });
    }
    const out = be.view(a.ln, 0, rows * C);
    be.rmsNormForward({
      x,
      weight: this.param("model.norm.weight"),
      out,
      rstd: a.rstd,
      rows,
      dim: C,
      eps: cfg.rms_norm_eps,
    });
    return out;
  }

  /** LM logits `[rows, vocab]` of the first `rows` hidden states in `hidden`, written to `out` (allocated if absent). */
  lmLogits(hidden: Tensor, rows: number, out?: Tensor): Tensor {
    this.#requireHead("lm", "lmLogits");
    const V = this.config.vocab_size, C = this.config.hidden_size;
    const target = out ?? this.backend.alloc(rows * V);
    this.backend.matmul({ a: hidden, b: this.#lmWeight(), out: target, m: rows, n: V, k: C, transB: true });
    return target;
  }

  /** Frees every device buffer of the model. Using it afterwards is an error. */
  dispose(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#freeActs();
    if (this.#stepActs) freeActs(this.backend, this.#stepActs);
    for (const t of [this.params, this.grads, this.#normBuf, this.#m, this.#v]) if (t) this.backend.free(t);
  }

  // ---- internals ----

  // The AdamW moment buffers (allocated, zero, on first use) as per-parameter views, in layout order.
  #moments(): { m: Tensor; v: Tensor }[] {
    if (!this.#momentViews) {
      const be = this.backend, m = be.alloc(this.layout.total), v = be.alloc(this.layout.total);
      this.#m = m;
      this.#v = v;
      this.#momentViews = this.layout.specs.map((s) => ({
        m: be.view(m, s.offset, s.size),
        v: be.view(v, s.offset, s.size),
      }));
      // Adjacent tensors updated together (the padding between them holds zeros, and stays so), up to
      // ADAMW_GROUP floats a call: one call for a small model instead of one per tensor.
      this.#updateGroups = [];
      const specs = this.layout.specs;
      for (let i = 0; i < specs.length;) {
        const start = specs[i].offset;
        let j = i + 1;
        while (j < specs.length && specs[j].offset + specs[j].size - start <= ADAMW_GROUP) j++;
        const length = specs[j - 1].offset + specs[j - 1].size - start;
        const view = (t: Tensor) => be.view(t, start, length);
        this.#updateGroups.push({
          params: view(this.params),
          grads: view(this.grads),
          m: view(m),
          v: view(v),
        });
        i = j;
      }
    }
    return this.#momentViews;
  }

  #requireHead(head: HeadKind, what: string): void {
    if (this.#freed) throw new Error(`${what}: model was disposed`);
    if (this.head !== head) {
      throw new Error(`${what} needs a model with head "${head}", this one has "${this.head}"`);
    }
  }

  #lmWeight(): Tensor {
    return this.param(this.config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  }

  #lmWeightGrad(): Tensor {
    return this.grad(this.config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  }

  /**
   * Decoder block `l` forward: x -> RMSNorm -> q, k, v (+ RoPE) -> `attend` (reads `io.q`, `io.k`, `io.v`, writes
   * `io.att`) -> mid = x + o_proj(att) -> RMSNorm -> SwiGLU MLP -> out = mid + down_proj(h). `mid` and `out` may be
   * `x` itself (decoding updates the residual in place); otherwise the residual is copied forward, so training
   * keeps every layer's input for the backward pass.
   */
  #decoderBlock(l: number, io: BlockBuffers, attend: () => void): void {
    const be = this.backend, cfg = this.config;
    const C = cfg.hidden_size, I = cfg.intermediate_size, D = headDim(cfg);
    const H = cfg.num_attention_heads, KV = cfg.num_key_value_heads, eps = cfg.rms_norm_eps;
    const R = io.rows, theta = cfg.rope_theta;
    const p = (s: string) => this.param(layerName(l, s));
    be.rmsNormForward({
      x: io.x,
      weight: p("input_layernorm.weight"),
      out: io.ln1,
      rstd: io.rstd1,
      rows: R,
      dim: C,
      eps,
    });
    this.#linear(io.ln1, p("self_attn.q_proj.weight"), io.q, R, C, H * D, p("self_attn.q_proj.bias"));
    this.#linear(io.ln1, p("self_attn.k_proj.weight"), io.k, R, C, KV * D, p("self_attn.k_proj.bias"));
    this.#linear(io.ln1, p("self_attn.v_proj.weight"), io.v, R, C, KV * D, p("self_attn.v_proj.bias"));
    be.rope({ x: io.q, positions: io.positions, rows: R, heads: H, headDim: D, theta });
    be.rope({ x: io.k, positions: io.positions, rows: R, heads: KV, headDim: D, theta });
    attend();
    if (io.mid !== io.x) be.copy(io.x, io.mid);
    this.#linear(io.att, p("self_attn.o_proj.weight"), io.mid, R, H * D, C, undefined, 1);
    be.rmsNormForward({
      x: io.mid,
      weight: p("post_attention_layernorm.weight"),
      out: io.ln2,
      rstd: io.rstd2,
      rows: R,
      dim: C,
      eps,
    });
    this.#linear(io.ln2, p("mlp.gate_proj.weight"), io.gate, R, C, I);
    this.#linear(io.ln2, p("mlp.up_proj.weight"), io.up, R, C, I);
    be.swigluForward({ gate: io.gate, up: io.up, out: io.h, length: R * I });
    if (io.out !== io.mid) be.copy(io.mid, io.out);
    this.#linear(io.h, p("mlp.down_proj.weight"), io.out, R, I, C, undefined, 1);
  }

  // out[rows, outF] = x @ w^T (+ bias) + beta * out
  #linear(
    x: Tensor,
    w: Tensor,
    out: Tensor,
    rows: number,
    inF: number,
    outF: number,
    bias?: Tensor,
    beta = 0,
  ): void {
    this.backend.matmul({ a: x, b: w, out, m: rows, n: outF, k: inF, transB: true, beta });
    if (bias) this.backend.addBias({ x: out, bias, rows, dim: outF });
  }

  // dx (= or +=) dy @ w ; dW += dy^T @ x
  #linearBack(
    dy: Tensor,
    x: Tensor,
    w: Tensor,
    dx: Tensor,
    dW: Tensor,
    rows: number,
    inF: number,
    outF: number,
    dxBeta: number,
  ): void {
    const be = this.backend;
    be.matmul({ a: dy, b: w, out: dx, m: rows, n: inF, k: outF, beta: dxBeta });
    be.matmul({ a: dy, b: x, out: dW, m: outF, n: inF, k: rows, transA: true, beta: 1 });
  }

  #actsFor(batch: number, seqLen: number): Acts {
    if (this.#acts && this.#acts.batch === batch && this.#acts.seqLen === seqLen) return this.#acts;
    const rows = batch * seqLen, have = this.#actsStorage?.rows ?? 0;
    if (rows > have) {
      this.#freeActs();
      // A quarter more than needed, so a run whose shapes creep up reallocates a few times only.
      this.#actsStorage = allocActs(this.backend, this.config, 1, Math.max(rows, Math.ceil(have * 1.25)));
    }
    this.#lastForward = null;
    this.#acts = actsView(this.backend, this.#actsStorage!, batch, seqLen);
    return this.#acts;
  }

  #freeActs(): void {
    if (!this.#actsStorage) return;
    freeActs(this.backend, this.#actsStorage);
    this.#actsStorage = null;
    this.#acts = null;
    this.#lastForward = null;
  }

  #stepActsFor(rows: number): StepActs {
    if (this.#stepActs && this.#stepActs.rows >= rows) return this.#stepActs;
    if (this.#stepActs) freeActs(this.backend, this.#stepActs);
    this.#stepActs = allocStepActs(this.backend, this.config, rows);
    return this.#stepActs;
  }

  /**
   * The activations of `batch`: those left by the last forward when it ran on this same batch object with these
   * weights (an RL step scores a batch, then trains on it; the backward passes leave them intact), else a fresh
   * forward. Reuse gives the fresh forward's values exactly: the kernels are deterministic.
   */
  #forwardOrReuse(batch: TokenBatch): { acts: Acts; count: number; active: Int32Array } {
    const last = this.#lastForward;
    if (last && last.batch === batch && last.version === this.#version && this.#acts) {
      return { acts: this.#acts, count: last.count, active: last.active };
    }
    return this.#forward(batch);
  }

  // Forward of the body (and the LM head's rows for an LM model), saving activations.
  #forward(batch: TokenBatch): { acts: Acts; count: number; active: Int32Array } {
    if (this.#freed) throw new Error("model was disposed");
    const cfg = this.config;
    validateBatch(batch, cfg.vocab_size, cfg.max_position_embeddings);
    const be = this.backend, acts = this.#actsFor(batch.batch, batch.seqLen);
    const R = acts.rows, C = cfg.hidden_size, D = headDim(cfg);
    const H = cfg.num_attention_heads, KV = cfg.num_key_value_heads, eps = cfg.rms_norm_eps;
    const rows = batchRows(batch);
    be.upload(acts.tokens, batch.tokens);
    be.upload(acts.positions, rows.positions);
    be.embeddingForward({
      tokens: acts.tokens,
      table: this.param("model.embed_tokens.weight"),
      out: acts.resid[0],
      rows: R,
      dim: C,
    });
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const a = acts.layers[l];
      const io = {
        ...a,
        x: acts.resid[l],
        mid: a.resid2,
        out: acts.resid[l + 1],
        positions: acts.positions,
        rows: R,
      };
      this.#decoderBlock(l, io, () =>
        be.attentionForward({
          q: a.q,
          k: a.k,
          v: a.v,
          out: a.att,
          lse: a.lse,
          batch: batch.batch,
          seqLen: batch.seqLen,
          heads: H,
          kvHeads: KV,
          headDim: D,
        }));
    }
    be.rmsNormForward({
      x: acts.resid[cfg.num_hidden_layers],
      weight: this.param("model.norm.weight"),
      out: acts.lnf,
      rstd: acts.rstdf,
      rows: R,
      dim: C,
      eps,
    });
    const count = rows.active.length;
    if (this.head === "lm" && count > 0) {
      be.upload(acts.active, rows.active);
      be.upload(acts.targets, rows.targets);
      be.gatherRows({ src: acts.lnf, indices: acts.active, out: acts.hidden, count, width: C });
      be.lmHeadForward({
        hidden: acts.hidden,
        weight: this.#lmWeight(),
        targets: acts.targets,
        logprobs: acts.logprobs,
        entropies: acts.entropies,
        lse: acts.headLse,
        rows: count,
        dim: C,
        vocab: cfg.vocab_size,
      });
    }
    this.#lastForward = { batch, version: this.#version, count, active: rows.active };
    return { acts, count, active: rows.active };
  }

  #scoreForward(acts: Acts): void {
    this.backend.matmul({
      a: acts.lnf,
      b: this.param("score.weight"),
      out: acts.scores,
      m: acts.rows,
      n: 1,
      k: this.config.hidden_size,
      transB: true,
    });
  }

  async #readHead(acts: Acts, count: number, active: Int32Array, batch: TokenBatch): Promise<LogprobResult> {
    const n = batch.batch * batch.seqLen;
    const logprobs = new Float32Array(n), entropies = new Float32Array(n);
    if (count > 0) {
      const lp = await this.backend.download(acts.logprobs);
      const ent = await this.backend.download(acts.entropies);
      for (let j = 0; j < count; j++) {
        logprobs[active[j]] = lp[j];
        entropies[active[j]] = ent[j];
      }
    }
    return { logprobs, entropies };
  }

  // Backward of the body from acts.dHidden (gradient of the final-norm output), accumulating parameter grads.
  #backward(acts: Acts): void {
    const be = this.backend, cfg = this.config;
    const R = acts.rows, C = cfg.hidden_size, I = cfg.intermediate_size, D = headDim(cfg);
    const H = cfg.num_attention_heads, KV = cfg.num_key_value_heads, L = cfg.num_hidden_layers;
    be.fill(acts.dResid, 0);
    be.rmsNormBackward({
      x: acts.resid[L],
      weight: this.param("model.norm.weight"),
      rstd: acts.rstdf,
      dOut: acts.dHidden,
      dx: acts.dResid,
      dWeight: this.grad("model.norm.weight"),
      rows: R,
      dim: C,
    });
    for (let l = L - 1; l >= 0; l--) {
      const p = (s: string) => this.param(layerName(l, s));
      const g = (s: string) => this.grad(layerName(l, s));
      // Linear layer `name` with input x: dx (+)= dy @ W, dW += dy^T @ x.
      const back = (
        dy: Tensor,
        x: Tensor,
        name: string,
        dx: Tensor,
        inF: number,
        outF: number,
        acc: number,
      ) => this.#linearBack(dy, x, p(name), dx, g(name), R, inF, outF, acc);
      const a = acts.layers[l];
      // MLP: resid[l+1] = resid2 + down(silu(gate(ln2)) * up(ln2))
      back(acts.dResid, a.h, "mlp.down_proj.weight", acts.dH, I, C, 0);
      be.swigluBackward({
        gate: a.gate,
        up: a.up,
        dOut: acts.dH,
        dGate: acts.dGate,
        dUp: acts.dUp,
        length: R * I,
      });
      back(acts.dGate, a.ln2, "mlp.gate_proj.weight", acts.dLn, C, I, 0);
      back(acts.dUp, a.ln2, "mlp.up_proj.weight", acts.dLn, C, I, 1);
      be.rmsNormBackward({
        x: a.resid2,
        weight: p("post_attention_layernorm.weight"),
        rstd: a.rstd2,
        dOut: acts.dLn,
        dx: acts.dResid,
        dWeight: g("post_attention_layernorm.weight"),
        rows: R,
        dim: C,
      });
      // attention: resid2 = resid[l] + o_proj(attention(rope(q), rope(k), v))
      back(acts.dResid, a.att, "self_attn.o_proj.weight", acts.dAtt, H * D, C, 0);
      be.attentionBackward({
        q: a.q,
        k: a.k,
        v: a.v,
        out: a.att,
        lse: a.lse,
        dOut: acts.dAtt,
        dq: acts.dq,
        dk: acts.dk,
        dv: acts.dv,
        batch: acts.batch,
        seqLen: acts.seqLen,
        heads: H,
        kvHeads: KV,
        headDim: D,
      });
      const rope = { positions: acts.positions, rows: R, headDim: D, theta: cfg.rope_theta, inverse: true };
      be.rope({ x: acts.dq, heads: H, ...rope });
      be.rope({ x: acts.dk, heads: KV, ...rope });
      be.biasGrad({ dOut: acts.dq, dBias: g("self_attn.q_proj.bias"), rows: R, dim: H * D });
      be.biasGrad({ dOut: acts.dk, dBias: g("self_attn.k_proj.bias"), rows: R, dim: KV * D });
      be.biasGrad({ dOut: acts.dv, dBias: g("self_attn.v_proj.bias"), rows: R, dim: KV * D });
      back(acts.dq, a.ln1, "self_attn.q_proj.weight", acts.dLn, C, H * D, 0);
      back(acts.dk, a.ln1, "self_attn.k_proj.weight", acts.dLn, C, KV * D, 1);
      back(acts.dv, a.ln1, "self_attn.v_proj.weight", acts.dLn, C, KV * D, 1);
      be.rmsNormBackward({
        x: acts.resid[l],
        weight: p("input_layernorm.weight"),
        rstd: a.rstd1,
        dOut: acts.dLn,
        dx: acts.dResid,
        dWeight: g("input_layernorm.weight"),
        rows: R,
        dim: C,
      });
    }
    be.embeddingBackward({
      tokens: acts.tokens,
      dOut: acts.dResid,
      dTable: this.grad("model.embed_tokens.weight"),
      rows: R,
      dim: C,
    });
  }
}
