/**
 * Argument checks shared by every backend: each operation's sizes must be non-negative integers, and each operand
 * must have the element type and at least the number of elements the sizes imply (as documented on the parameter
 * types of `backend.ts`). A backend calls the operation's check first, so a bad call fails with a RangeError or
 * TypeError naming the operand instead of reading past a tensor or leaving NaN behind. Checks that need the
 * tensors' contents (token ids in range, cache slots below the capacity) stay in the backends' kernels, and
 * checks of a tensor's owner stay in its backend.
 *
 * @module
 */

import type {
  AdamWParams,
  AddBiasParams,
  AttentionBackwardParams,
  AttentionCachedParams,
  AttentionForwardParams,
  BiasGradParams,
  DType,
  EmbeddingBackwardParams,
  EmbeddingForwardParams,
  GatherRowsParams,
  KvCacheWriteParams,
  LmHeadBackwardParams,
  LmHeadForwardParams,
  MatmulParams,
  RmsNormBackwardParams,
  RmsNormForwardParams,
  RopeParams,
  ScatterAddRowsParams,
  SwigluBackwardParams,
  SwigluForwardParams,
  Tensor,
} from "./backend.ts";

/** An operand: the tensor, its element type, the fewest elements it may have, and its name in messages. */
type Operand = [Tensor, DType, number, string];

function sizes(op: string, d: Record<string, number>): void {
  for (const [k, v] of Object.entries(d)) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`${op}: ${k} must be an integer >= 0, got ${v}`);
    }
  }
}

function operands(op: string, list: Operand[]): void {
  for (const [t, dtype, need, what] of list) {
    if (t === null || typeof t !== "object") throw new TypeError(`${op}: ${what} is not a tensor`);
    if (t.dtype !== dtype) throw new TypeError(`${op}: ${what} must be ${dtype}, got ${t.dtype}`);
    if (t.length < need) throw new RangeError(`${op}: ${what} has ${t.length} elements, needs ${need}`);
  }
}

function finite(op: string, d: Record<string, number>): void {
  for (const [k, v] of Object.entries(d)) {
    if (!Number.isFinite(v)) throw new RangeError(`${op}: ${k} must be a finite number, got ${v}`);
  }
}

function grouped(op: string, heads: number, kvHeads: number): void {
  if (heads > 0 && (kvHeads === 0 || heads % kvHeads !== 0)) {
    throw new RangeError(`${op}: heads (${heads}) must be a multiple of kvHeads (${kvHeads})`);
  }
}

/** The check of each operation of the `Backend` interface that takes sizes or several operands. */
export const check = {
  fill(t: Tensor, value: number): void {
    operands("fill", [[t, "f32", 0, "tensor"]]);
    if (typeof value !== "number") throw new TypeError("fill: value must be a number");
  },
  copy(src: Tensor, dst: Tensor): void {
    operands("copy", [[src, src?.dtype, 0, "src"], [dst, src.dtype, src.length, "dst"]]);
    if (dst.length !== src.length) {
      throw new RangeError(`copy: lengths ${src.length} and ${dst.length} differ`);
    }
  },
  scale(x: Tensor, alpha: number): void {
    operands("scale", [[x, "f32", 0, "x"]]);
    finite("scale", { alpha });
  },
  addInto(dst: Tensor, src: Tensor, alpha: number): void {
    operands("addInto", [[dst, "f32", 0, "dst"], [src, "f32", 0, "src"]]);
    if (dst.length !== src.length) {
      throw new RangeError(`addInto: lengths ${dst.length} and ${src.length} differ`);
    }
    finite("addInto", { alpha });
  },
  sumSquares(x: Tensor, out: Tensor): void {
    operands("sumSquares", [[x, "f32", 0, "x"], [out, "f32", 1, "out"]]);
  },
  matmul(p: MatmulParams): void {
    const { m, n, k } = p;
    sizes("matmul", { m, n, k });
    operands("matmul", [[p.a, "f32", m * k, "a"], [p.b, "f32", k * n, "b"], [p.out, "f32", m * n, "out"]]);
    finite("matmul", { alpha: p.alpha ?? 1, beta: p.beta ?? 0 });
  },
  embeddingForward(p: EmbeddingForwardParams): void {
    const { rows, dim } = p;
    sizes("embeddingForward", { rows, dim });
    operands("embeddingForward", [
      [p.tokens, "i32", rows, "tokens"],
      [p.table, "f32", rows > 0 ? dim : 0, "table"],
      [p.out, "f32", rows * dim, "out"],
    ]);
  },
  embeddingBackward(p: EmbeddingBackwardParams): void {
    const { rows, dim } = p;
    sizes("embeddingBackward", { rows, dim });
    operands("embeddingBackward", [
      [p.tokens, "i32", rows, "tokens"],
      [p.dOut, "f32", rows * dim, "dOut"],
      [p.dTable, "f32", rows > 0 ? dim : 0, "dTable"],
    ]);
  },
  rmsNormForward(p: RmsNormForwardParams): void {
    const { rows, dim } = p;
    sizes("rmsNormForward", { rows, dim });
    operands("rmsNormForward", [
      [p.x, "f32", rows * dim, "x"],
      [p.weight, "f32", dim, "weight"],
      [p.out, "f32", rows * dim, "out"],
      [p.rstd, "f32", rows, "rstd"],
    ]);
    finite("rmsNormForward", { eps: p.eps });
  },
  rmsNormBackward(p: RmsNormBackwardParams): void {
    const { rows, dim } = p;
    sizes("rmsNormBackward", { rows, dim });
    operands("rmsNormBackward", [
      [p.x, "f32", rows * dim, "x"],
      [p.weight, "f32", dim, "weight"],
      [p.rstd, "f32", rows, "rstd"],
      [p.dOut, "f32", rows * dim, "dOut"],
      [p.dx, "f32", rows * dim, "dx"],
      [p.dWeight, "f32", dim, "dWeight"],
    ]);
  },
  rope(p: RopeParams): void {
    const { rows, heads, headDim } = p;
    sizes("rope", { rows, heads, headDim });
    if (headDim % 2 !== 0) throw new RangeError(`rope: headDim must be even, got ${headDim}`);
    if (!(p.theta > 0) || !Number.isFinite(p.theta)) {
      throw new RangeError(`rope: theta must be > 0, got ${p.theta}`);
    }
    operands("rope", [[p.x, "f32", rows * heads * headDim, "x"], [p.positions, "i32", rows, "positions"]]);
  },
  attentionForward(p: AttentionForwardParams): void {
    const { batch, seqLen, heads, kvHeads, headDim } = p;
    sizes("attentionForward", { batch, seqLen, heads, kvHeads, headDim });
    grouped("attentionForward", heads, kvHeads);
    const nq = batch * seqLen * heads * headDim, nkv = batch * seqLen * kvHeads * headDim;
    operands("attentionForward", [
      [p.q, "f32", nq, "q"],
      [p.k, "f32", nkv, "k"],
      [p.v, "f32", nkv, "v"],
      [p.out, "f32", nq, "out"],
      [p.lse, "f32", batch * heads * seqLen, "lse"],
    ]);
  },
  attentionBackward(p: AttentionBackwardParams): void {
    const { batch, seqLen, heads, kvHeads, headDim } = p;
    sizes("attentionBackward", { batch, seqLen, heads, kvHeads, headDim });
    grouped("attentionBackward", heads, kvHeads);
    const nq = batch * seqLen * heads * headDim, nkv = batch * seqLen * kvHeads * headDim;
    operands("attentionBackward", [
      [p.q, "f32", nq, "q"],
      [p.k, "f32", nkv, "k"],
      [p.v, "f32", nkv, "v"],
      [p.out, "f32", nq, "out"],
      [p.lse, "f32", batch * heads * seqLen, "lse"],
      [p.dOut, "f32", nq, "dOut"],
      [p.dq, "f32", nq, "dq"],
      [p.dk, "f32", nkv, "dk"],
      [p.dv, "f32", nkv, "dv"],
    ]);
  },
  kvCacheWrite(p: KvCacheWriteParams): void {
    const { batch, queryLen, capacity, width } = p;
    sizes("kvCacheWrite", { batch, queryLen, capacity, width });
    if (queryLen > capacity) {
      throw new RangeError(`kvCacheWrite: queryLen ${queryLen} > capacity ${capacity}`);
    }
    operands("kvCacheWrite", [
      [p.src, "f32", batch * queryLen * width, "src"],
      [p.cache, "f32", batch * capacity * width, "cache"],
      [p.lengths, "i32", batch, "lengths"],
    ]);
  },
  attentionCached(p: AttentionCachedParams): void {
    const { batch, queryLen, capacity, heads, kvHeads, headDim } = p;
    sizes("attentionCached", { batch, queryLen, capacity, heads, kvHeads, headDim });
    grouped("attentionCached", heads, kvHeads);
    if (queryLen > capacity) {
      throw new RangeError(`attentionCached: queryLen ${queryLen} > capacity ${capacity}`);
    }
    const nq = batch * queryLen * heads * headDim, nc = batch * capacity * kvHeads * headDim;
    operands("attentionCached", [
      [p.q, "f32", nq, "q"],
      [p.kCache, "f32", nc, "kCache"],
      [p.vCache, "f32", nc, "vCache"],
      [p.lengths, "i32", batch, "lengths"],
      [p.out, "f32", nq, "out"],
    ]);
  },
  swigluForward(p: SwigluForwardParams): void {
    const n = p.length;
    sizes("swigluForward", { length: n });
    operands("swigluForward", [[p.gate, "f32", n, "gate"], [p.up, "f32", n, "up"], [p.out, "f32", n, "out"]]);
  },
  swigluBackward(p: SwigluBackwardParams): void {
    const n = p.length;
    sizes("swigluBackward", { length: n });
    operands("swigluBackward", [
      [p.gate, "f32", n, "gate"],
      [p.up, "f32", n, "up"],
      [p.dOut, "f32", n, "dOut"],
      [p.dGate, "f32", n, "dGate"],
      [p.dUp, "f32", n, "dUp"],
    ]);
  },
  addBias(p: AddBiasParams): void {
    const { rows, dim } = p;
    sizes("addBias", { rows, dim });
    operands("addBias", [[p.x, "f32", rows * dim, "x"], [p.bias, "f32", dim, "bias"]]);
  },
  biasGrad(p: BiasGradParams): void {
    const { rows, dim } = p;
    sizes("biasGrad", { rows, dim });
    operands("biasGrad", [[p.dOut, "f32", rows * dim, "dOut"], [p.dBias, "f32", dim, "dBias"]]);
  },
  gatherRows(p: GatherRowsParams): void {
    const { count, width } = p;
    sizes("gatherRows", { count, width });
    operands("gatherRows", [
      [p.src, "f32", 0, "src"],
      [p.indices, "i32", count, "indices"],
      [p.out, "f32", count * width, "out"],
    ]);
  },
  scatterAddRows(p: ScatterAddRowsParams): void {
    const { count, width } = p;
    sizes("scatterAddRows", { count, width });
    operands("scatterAddRows", [
      [p.src, "f32", count * width, "src"],
      [p.indices, "i32", count, "indices"],
      [p.dst, "f32", 0, "dst"],
    ]);
  },
  lmHeadForward(p: LmHeadForwardParams): void {
    const { rows, dim, vocab } = p;
    sizes("lmHeadForward", { rows, dim, vocab });
    operands("lmHeadForward", [
      [p.hidden, "f32", rows * dim, "hidden"],
      [p.weight, "f32", vocab * dim, "weight"],
      [p.targets, "i32", rows, "targets"],
      [p.logprobs, "f32", rows, "logprobs"],
      [p.entropies, "f32", rows, "entropies"],
      [p.lse, "f32", rows, "lse"],
    ]);
  },
  lmHeadBackward(p: LmHeadBackwardParams): void {
    const { rows, dim, vocab } = p;
    sizes("lmHeadBackward", { rows, dim, vocab });
    operands("lmHeadBackward", [
      [p.hidden, "f32", rows * dim, "hidden"],
      [p.weight, "f32", vocab * dim, "weight"],
      [p.targets, "i32", rows, "targets"],
      [p.lse, "f32", rows, "lse"],
      [p.coeffs, "f32", rows, "coeffs"],
      [p.dHidden, "f32", rows * dim, "dHidden"],
      [p.dWeight, "f32", vocab * dim, "dWeight"],
    ]);
  },
  adamw(p: AdamWParams): void {
    const n = p.params?.length ?? 0;
    operands("adamw", [
      [p.params, "f32", 0, "params"],
      [p.grads, "f32", n, "grads"],
      [p.m, "f32", n, "m"],
      [p.v, "f32", n, "v"],
    ]);
    const { lr, beta1, beta2, eps, weightDecay } = p;
    finite("adamw", { lr, beta1, beta2, eps, weightDecay, gradScale: p.gradScale ?? 1 });
    if (!(p.step >= 1)) throw new RangeError(`adamw: step must be >= 1, got ${p.step}`);
  },
};
