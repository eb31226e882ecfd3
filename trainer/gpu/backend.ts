/**
 * The compute interface every backend implements (llm.c style): opaque device tensors and one function per
 * operation, forward and backward. The model in `trainer/model` is written once against this interface; the CPU
 * backend (`trainer/gpu/cpu`) is the reference every other backend is tested against.
 *
 * Conventions, shared by every operation:
 * - Tensors are flat arrays of 32-bit elements, row-major. Shapes are given per call (`rows`, `dim`, ...).
 * - `f32` tensors hold floats; `i32` tensors hold token ids, positions and lengths.
 * - Operations are enqueued in call order; results become visible to {@linkcode Backend.download} in that order.
 *   Only `download*` and {@linkcode Backend.flush} wait for the device.
 * - Ops that write a *parameter gradient* accumulate into it (`+=`), so micro-batches add up; ops that write an
 *   *activation gradient* overwrite it unless the parameter list says otherwise (RMSNorm's `dx` accumulates, so
 *   the residual stream's gradient can be summed in place).
 * - Distinct operands of one call never overlap in memory unless the call says they may (e.g. `out` may be `a`).
 *   Views of one allocation may be passed as different operands when their ranges are disjoint.
 * - Attention layouts: queries `[B*T, H*D]`, keys and values `[B*T, KV*D]` (the natural outputs of the q/k/v
 *   projections, no permutation); head `h` reads key/value head `floor(h / (H / KV))` (grouped-query attention).
 *
 * @module
 */

/** Element types a tensor can hold. */
export type DType = "f32" | "i32";

/**
 * An opaque handle to device memory owned by one backend. Only the backend that made it may use it.
 * `length` counts elements (4 bytes each).
 */
export interface Tensor {
  /** Number of 32-bit elements. */
  readonly length: number;
  /** Element type. */
  readonly dtype: DType;
}

/**
 * View offsets must be multiples of this many elements (256 bytes: WebGPU's usual
 * `minStorageBufferOffsetAlignment`). The model pads every parameter to it.
 */
export const VIEW_ALIGN = 64;

/** Rounds `n` up to the next multiple of {@linkcode VIEW_ALIGN}. */
export function alignUp(n: number): number {
  return Math.ceil(n / VIEW_ALIGN) * VIEW_ALIGN;
}

/** `out = alpha * op(A) @ op(B) + beta * out`, with `op(A)` of shape `[m, k]` and `op(B)` of shape `[k, n]`. */
export interface MatmulParams {
  /** `A`: stored `[m, k]`, or `[k, m]` when `transA`. */
  a: Tensor;
  /** `B`: stored `[k, n]`, or `[n, k]` when `transB` (a linear layer's `[out, in]` weight). */
  b: Tensor;
  /** Output `[m, n]`. With `beta` 0 its previous contents are ignored (NaN included). */
  out: Tensor;
  m: number;
  n: number;
  k: number;
  /** Default false. */
  transA?: boolean;
  /** Default false. */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0 (overwrite); 1 accumulates. */
  beta?: number;
}

/** Embedding lookup: `out[r, :] = table[tokens[r], :]`. */
export interface EmbeddingForwardParams {
  /** i32 `[rows]`, each in `[0, vocab)`. */
  tokens: Tensor;
  /** `[vocab, dim]`. */
  table: Tensor;
  /** `[rows, dim]`. */
  out: Tensor;
  rows: number;
  dim: number;
}

/** Embedding backward (scatter-add): `dTable[tokens[r], :] += dOut[r, :]`. Tokens may repeat. */
export interface EmbeddingBackwardParams {
  tokens: Tensor;
  /** `[rows, dim]`. */
  dOut: Tensor;
  /** `[vocab, dim]`, accumulated. */
  dTable: Tensor;
  rows: number;
  dim: number;
}

/**
 * RMSNorm as in Hugging Face Qwen2 (in f32): `rstd = 1 / sqrt(mean(x^2) + eps)`, `out = weight * x * rstd`.
 */
export interface RmsNormForwardParams {
  /** `[rows, dim]`. */
  x: Tensor;
  /** `[dim]`. */
  weight: Tensor;
  /** `[rows, dim]`. */
  out: Tensor;
  /** `[rows]`, written: the reciprocal RMS, saved for the backward. */
  rstd: Tensor;
  rows: number;
  dim: number;
  eps: number;
}

/** RMSNorm backward. Accumulates into `dx` and `dWeight`. */
export interface RmsNormBackwardParams {
  x: Tensor;
  weight: Tensor;
  /** As written by the forward. */
  rstd: Tensor;
  /** `[rows, dim]`. */
  dOut: Tensor;
  /** `[rows, dim]`, accumulated. */
  dx: Tensor;
  /** `[dim]`, accumulated. */
  dWeight: Tensor;
  rows: number;
  dim: number;
}

/**
 * Rotary position embedding, in place, Hugging Face `rotate_half` layout: for each head and `j < D/2`, with
 * `f_j = theta^(-2j/D)` and angle `a = positions[r] * f_j` (in f32, as transformers computes it),
 * `x[j] <- x[j] cos a - x[j + D/2] sin a` and `x[j + D/2] <- x[j + D/2] cos a + x[j] sin a`.
 * `inverse` applies the transposed rotation (that is the backward of the forward, applied to the gradient).
 */
export interface RopeParams {
  /** `[rows, heads * headDim]`, rotated in place. */
  x: Tensor;
  /** i32 `[rows]`: the position id of each row. */
  positions: Tensor;
  rows: number;
  heads: number;
  headDim: number;
  theta: number;
  /** Default false. */
  inverse?: boolean;
}

/**
 * Causal self-attention over a right-padded batch of `batch` sequences of `seqLen` rows each, scale
 * `1/sqrt(headDim)`. Query `t` attends to keys `0..t` of its own sequence (padding sits after the real tokens, so
 * real rows never see it).
 */
export interface AttentionForwardParams {
  /** `[batch*seqLen, heads*headDim]`. */
  q: Tensor;
  /** `[batch*seqLen, kvHeads*headDim]`. */
  k: Tensor;
  /** `[batch*seqLen, kvHeads*headDim]`. */
  v: Tensor;
  /** `[batch*seqLen, heads*headDim]`. */
  out: Tensor;
  /** `[batch, heads, seqLen]`, written: log-sum-exp of each query's scaled scores, saved for the backward. */
  lse: Tensor;
  batch: number;
  seqLen: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** Causal attention backward. Overwrites `dq`, `dk`, `dv`. */
export interface AttentionBackwardParams {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** The forward's output. */
  out: Tensor;
  /** The forward's log-sum-exp. */
  lse: Tensor;
  /** `[batch*seqLen, heads*headDim]`. */
  dOut: Tensor;
  /** `[batch*seqLen, heads*headDim]`, overwritten. */
  dq: Tensor;
  /** `[batch*seqLen, kvHeads*headDim]`, overwritten. */
  dk: Tensor;
  /** `[batch*seqLen, kvHeads*headDim]`, overwritten. */
  dv: Tensor;
  batch: number;
  seqLen: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/**
 * Writes new key or value rows into a cache: row `(b, i)` of `src` goes to cache slot `lengths[b] + i` of
 * sequence `b`. Slots must stay below `capacity`.
 */
export interface KvCacheWriteParams {
  /** `[batch*queryLen, width]`. */
  src: Tensor;
  /** `[batch, capacity, width]`. */
  cache: Tensor;
  /** i32 `[batch]`: tokens already cached per sequence before this step. */
  lengths: Tensor;
  batch: number;
  queryLen: number;
  capacity: number;
  /** `kvHeads * headDim`. */
  width: number;
}

/**
 * Attention of new query rows against a KV cache (incremental decoding and chunked prefill). Query `(b, i)` sits
 * at position `lengths[b] + i` and attends to cache slots `0..lengths[b] + i` inclusive of sequence `b`; the new
 * rows' keys and values must already be in the cache ({@linkcode Backend.kvCacheWrite}). Scale `1/sqrt(headDim)`.
 */
export interface AttentionCachedParams {
  /** `[batch*queryLen, heads*headDim]`. */
  q: Tensor;
  /** `[batch, capacity, kvHeads*headDim]`. */
  kCache: Tensor;
  /** `[batch, capacity, kvHeads*headDim]`. */
  vCache: Tensor;
  /** i32 `[batch]`: tokens cached per sequence before this step. */
  lengths: Tensor;
  /** `[batch*queryLen, heads*headDim]`. */
  out: Tensor;
  batch: number;
  queryLen: number;
  capacity: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** SwiGLU: `out = silu(gate) * up`, elementwise over `length` elements. */
export interface SwigluForwardParams {
  gate: Tensor;
  up: Tensor;
  out: Tensor;
  length: number;
}

/** SwiGLU backward. Overwrites `dGate` and `dUp`. */
export interface SwigluBackwardParams {
  gate: Tensor;
  up: Tensor;
  dOut: Tensor;
  dGate: Tensor;
  dUp: Tensor;
  length: number;
}

/** Adds a bias to every row: `x[r, c] += bias[c]`. */
export interface AddBiasParams {
  /** `[rows, dim]`, in place. */
  x: Tensor;
  /** `[dim]`. */
  bias: Tensor;
  rows: number;
  dim: number;
}

/** Bias gradient: `dBias[c] += sum_r dOut[r, c]`. */
export interface BiasGradParams {
  dOut: Tensor;
  /** `[dim]`, accumulated. */
  dBias: Tensor;
  rows: number;
  dim: number;
}

/** Row gather: `out[i, :] = src[indices[i], :]`. */
export interface GatherRowsParams {
  /** `[srcRows, width]`. */
  src: Tensor;
  /** i32 `[count]`. */
  indices: Tensor;
  /** `[count, width]`. */
  out: Tensor;
  count: number;
  width: number;
}

/** Row scatter-add (the gather's backward): `dst[indices[i], :] += src[i, :]`. Indices must be distinct. */
export interface ScatterAddRowsParams {
  /** `[count, width]`. */
  src: Tensor;
  /** i32 `[count]`, distinct. */
  indices: Tensor;
  /** `[dstRows, width]`, accumulated. */
  dst: Tensor;
  count: number;
  width: number;
}

/**
 * Fused LM head: logits `z = hidden @ weight^T` (`[rows, vocab]`, never kept whole), and per row the log-softmax
 * at `targets[r]` and the entropy of the softmax. A backend processes rows in chunks and makes one pass over each
 * row's logits (online max / log-sum-exp / target logit / sum p*z).
 */
export interface LmHeadForwardParams {
  /** `[rows, dim]`. */
  hidden: Tensor;
  /** `[vocab, dim]` (tied: the embedding table). */
  weight: Tensor;
  /** i32 `[rows]`. */
  targets: Tensor;
  /** `[rows]`, written: `log softmax(z_r)[targets[r]]`. */
  logprobs: Tensor;
  /** `[rows]`, written: `-sum_v p_v log p_v`. */
  entropies: Tensor;
  /** `[rows]`, written: `logsumexp(z_r)`, saved for the backward. */
  lse: Tensor;
  rows: number;
  dim: number;
  vocab: number;
}

/**
 * Fused LM head backward for `L = sum_r coeffs[r] * logprobs[r]`: `dz[r, v] = coeffs[r] * (onehot - softmax)`,
 * recomputed from `lse` chunk by chunk. Overwrites `dHidden`, accumulates `dWeight`.
 */
export interface LmHeadBackwardParams {
  hidden: Tensor;
  weight: Tensor;
  targets: Tensor;
  /** From the forward. */
  lse: Tensor;
  /** `[rows]`: g_r = dL / d logprobs[r]. */
  coeffs: Tensor;
  /** `[rows, dim]`, overwritten. */
  dHidden: Tensor;
  /** `[vocab, dim]`, accumulated. */
  dWeight: Tensor;
  rows: number;
  dim: number;
  vocab: number;
}

/**
 * One AdamW step (PyTorch semantics, decoupled weight decay, bias correction), elementwise over `params`:
 * `g = grads * gradScale`; `p *= 1 - lr*weightDecay`; `m = b1 m + (1-b1) g`; `v = b2 v + (1-b2) g^2`;
 * `p -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps)`.
 */
export interface AdamWParams {
  params: Tensor;
  grads: Tensor;
  /** First moments, same length, updated. */
  m: Tensor;
  /** Second moments, same length, updated. */
  v: Tensor;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count after this update (for bias correction). */
  step: number;
  /** Multiplies the gradient before use (gradient clipping). Default 1. */
  gradScale?: number;
}

/** A compute backend. Every method but `download*` and `flush` only enqueues work. */
export interface Backend {
  /** `"cpu"` or `"webgpu"`. */
  readonly name: string;
  /** Human-readable device description (the adapter's name for WebGPU). */
  readonly device: string;

  /** A new zero-filled tensor of `length` elements. */
  alloc(length: number, dtype?: DType): Tensor;
  /** Releases a tensor made by `alloc` (not a view). Using it afterwards is an error. */
  free(t: Tensor): void;
  /** A tensor aliasing `length` elements of `t` from `offset` (a multiple of {@linkcode VIEW_ALIGN}). */
  view(t: Tensor, offset: number, length: number): Tensor;
  /** Copies host data into `t` from element `offset` (default 0). The array's type must match `t.dtype`. */
  upload(t: Tensor, data: Float32Array | Int32Array, offset?: number): void;
  /** Reads an f32 tensor back to the host (small things only: per-token scalars, a norm). */
  download(t: Tensor): Promise<Float32Array>;
  /** Reads an i32 tensor back to the host (sampled token ids). */
  downloadInt(t: Tensor): Promise<Int32Array>;
  /** Waits until all enqueued work has finished (for timing). */
  flush(): Promise<void>;
  /** Releases every resource of the backend. */
  destroy(): void;

  /** Sets every element of an f32 tensor to `value`. */
  fill(t: Tensor, value: number): void;
  /** `dst = src` (same length and dtype). */
  copy(src: Tensor, dst: Tensor): void;
  /** `x *= alpha`. */
  scale(x: Tensor, alpha: number): void;
  /** `dst += alpha * src` (residual add, gradient accumulation; same length). */
  addInto(dst: Tensor, src: Tensor, alpha?: number): void;
  /** `out[0] = sum x^2` (or `out[0] += ...` when `accumulate`); `out` has length >= 1. */
  sumSquares(x: Tensor, out: Tensor, accumulate?: boolean): void;

  matmul(p: MatmulParams): void;
  embeddingForward(p: EmbeddingForwardParams): void;
  embeddingBackward(p: EmbeddingBackwardParams): void;
  rmsNormForward(p: RmsNormForwardParams): void;
  rmsNormBackward(p: RmsNormBackwardParams): void;
  rope(p: RopeParams): void;
  attentionForward(p: AttentionForwardParams): void;
  attentionBackward(p: AttentionBackwardParams): void;
  kvCacheWrite(p: KvCacheWriteParams): void;
  attentionCached(p: AttentionCachedParams): void;
  swigluForward(p: SwigluForwardParams): void;
  swigluBackward(p: SwigluBackwardParams): void;
  addBias(p: AddBiasParams): void;
  biasGrad(p: BiasGradParams): void;
  gatherRows(p: GatherRowsParams): void;
  scatterAddRows(p: ScatterAddRowsParams): void;
  lmHeadForward(p: LmHeadForwardParams): void;
  lmHeadBackward(p: LmHeadBackwardParams): void;
  adamw(p: AdamWParams): void;
}
