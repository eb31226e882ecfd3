/**
 * The WebGPU backend: the {@linkcode Backend} interface on one WebGPU device, with WGSL kernels generated from
 * TypeScript (shapes baked in as constants), pipelines cached by source, buffers pooled by size class and every
 * operation recorded into a batched command stream (only `download*` and `flush` wait for the device).
 *
 * @module
 */

import {
  type AdamWParams,
  type Backend,
  type DType,
  type LmHeadBackwardParams,
  type LmHeadForwardParams,
  type Tensor,
  VIEW_ALIGN,
} from "../backend.ts";
import { check } from "../checks.ts";
import { BufferPool } from "./buffers.ts";
import { type BufferRange, CommandBatch, type HostArray } from "./commands.ts";
import { acquireGpu, formatAdapter, type GpuContext } from "./device.ts";
import {
  type Dispatchable,
  matmulKernel,
  type MatmulSpec,
  type MatmulTuning,
  matmulTuningFor,
} from "./matmul.ts";
import { PipelineCache } from "./pipelines.ts";
import * as ew from "./elementwise.ts";
import * as nm from "./norm.ts";
import * as at from "./attention.ts";
import { lmHeadGradKernel, lmHeadStatsKernel } from "./lm_head.ts";

// The kernel-level building blocks, for benchmarks and for users who compose their own kernels.
export { BufferPool } from "./buffers.ts";
export { CommandBatch } from "./commands.ts";
export { acquireGpu, findAdapter, formatAdapter, type GpuContext } from "./device.ts";
export { scaleKernel } from "./elementwise.ts";
export { matmulKernel, type MatmulSpec, matmulTuningFor, TILE_LARGE } from "./matmul.ts";
export { PipelineCache } from "./pipelines.ts";

/** A device tensor: a range of a pooled GPU buffer. */
export class GpuTensor implements Tensor {
  /** The buffer holding the elements. */
  readonly buffer: GPUBuffer;
  /** First element within `buffer`. */
  readonly offset: number;
  /** Number of 32-bit elements. */
  readonly length: number;
  /** Element type. */
  readonly dtype: DType;
  /** The allocation a view aliases (`null` for an allocation). */
  readonly root: GpuTensor | null;
  /** The backend instance that made it. */
  readonly owner: object;
  /** True once freed. */
  freed = false;

  /** Wraps `length` elements of `buffer` from element `offset`. */
  constructor(
    owner: object,
    buffer: GPUBuffer,
    offset: number,
    length: number,
    dtype: DType,
    root: GpuTensor | null,
  ) {
    this.owner = owner;
    this.buffer = buffer;
    this.offset = offset;
    this.length = length;
    this.dtype = dtype;
    this.root = root;
  }
}

/** Options of {@linkcode createWebGpuBackend}. */
export interface WebGpuBackendOptions {
  /** Use this device (shared, not destroyed by `destroy`) instead of acquiring one. */
  context?: GpuContext;
  /**
   * Rows of logits the LM head materialises at once (rounded to a multiple of 64). Default: as many as fit in
   * 256 MiB (or the device's binding limit), at most 1024.
   */
  lmHeadChunkRows?: number;
  /** Matmul kernel choice (default: {@linkcode matmulTuningFor} the adapter). */
  matmul?: MatmulTuning;
}

/** The WebGPU backend with its device context and internals exposed for benchmarks and tests. */
export interface WebGpuBackend extends Backend {
  /** The device and adapter description. */
  readonly context: GpuContext;
  /** The command batch (counts dispatches and submits). */
  readonly commands: CommandBatch;
  /** The buffer pool (memory statistics). */
  readonly pool: BufferPool;
  /** The pipeline cache. */
  readonly pipelines: PipelineCache;
}

/** Creates a WebGPU backend; throws `GpuUnavailableError` when there is no adapter. */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const ctx = options.context ?? await acquireGpu();
  return new WebGpu(ctx, options.context === undefined, options);
}

class WebGpu implements WebGpuBackend {
  readonly name = "webgpu";
  readonly device: string;
  readonly context: GpuContext;
  readonly commands: CommandBatch;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  #ownsDevice: boolean;
  #chunkRows: number | undefined;
  #tuning: MatmulTuning;
  #ropeTables = new Map<string, { table: GpuTensor; invFreq: GpuTensor }>();

  constructor(ctx: GpuContext, ownsDevice: boolean, options: WebGpuBackendOptions) {
    this.#tuning = options.matmul ?? matmulTuningFor(ctx.info);
    this.context = ctx;
    this.device = formatAdapter(ctx.info);
    this.pool = new BufferPool(ctx.device);
    this.pipelines = new PipelineCache(ctx.device);
    this.commands = new CommandBatch(ctx.device, this.pipelines);
    this.#ownsDevice = ownsDevice;
    this.#chunkRows = options.lmHeadChunkRows;
  }

  #t(t: Tensor, dtype: DType = "f32"): GpuTensor {
    if (!(t instanceof GpuTensor) || t.owner !== this) {
      throw new TypeError("webgpu backend: tensor was made by another backend");
    }
    if (t.freed || t.root?.freed) throw new Error("webgpu backend: tensor used after free");
    if (t.dtype !== dtype) throw new TypeError(`webgpu backend: expected an ${dtype} tensor, got ${t.dtype}`);
    return t;
  }

  /** The binding range of the first `n` elements of a tensor (its whole length by default). */
  #r(t: GpuTensor, n = t.length): BufferRange {
    return { buffer: t.buffer, offset: t.offset * 4, size: Math.max(n, 1) * 4 };
  }

  #mm(spec: MatmulSpec): Dispatchable {
    return matmulKernel({ ...spec, tile: this.#tuning.tile, gemvMaxM: this.#tuning.gemvMaxM });
  }

  #run(d: Dispatchable, bindings: (BufferRange | HostArray)[]): void {
    this.commands.dispatch(d.kernel, bindings, d.groups);
  }

  #scratch(length: number): GpuTensor {
    return new GpuTensor(this, this.pool.acquire(Math.max(length, 1) * 4), 0, length, "f32", null);
  }

  #release(t: GpuTensor): void {
    this.pool.release(t.buffer);
  }

  alloc(length: number, dtype: DType = "f32"): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc: bad length ${length}`);
    const buffer = this.pool.acquire(Math.max(length, 1) * 4);
    this.commands.clear(buffer);
    return new GpuTensor(this, buffer, 0, length, dtype, null);
  }

  free(t: Tensor): void {
    const g = this.#t(t, t.dtype);
    if (g.root) throw new Error("free: cannot free a view; free its allocation");
    g.freed = true;
    this.pool.release(g.buffer);
  }

  view(t: Tensor, offset: number, length: number): Tensor {
    const g = this.#t(t, t.dtype);
    if (offset % VIEW_ALIGN !== 0) {
      throw new RangeError(`view: offset ${offset} not a multiple of ${VIEW_ALIGN}`);
    }
    if (offset < 0 || length < 0 || offset + length > g.length) {
      throw new RangeError(`view: [${offset}, ${offset + length}) outside a tensor of ${g.length}`);
    }
    return new GpuTensor(this, g.buffer, g.offset + offset, length, g.dtype, g.root ?? g);
  }

  upload(t: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const g = this.#t(t, t.dtype);
    if ((data instanceof Int32Array) !== (g.dtype === "i32")) {
      throw new TypeError(`upload: ${data.constructor.name} into an ${g.dtype} tensor`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > g.length) {
      throw new RangeError(`upload: ${data.length} elements at ${offset} overflow a tensor of ${g.length}`);
    }
    this.commands.upload(g.buffer, data, (g.offset + offset) * 4);
  }

  async download(t: Tensor): Promise<Float32Array> {
    const g = this.#t(t, "f32");
    return new Float32Array(await this.commands.read(g.buffer, g.offset * 4, g.length * 4));
  }

  async downloadInt(t: Tensor): Promise<Int32Array> {
    const g = this.#t(t, "i32");
    return new Int32Array(await this.commands.read(g.buffer, g.offset * 4, g.length * 4));
  }

  flush(): Promise<void> {
    return this.commands.done();
  }

  destroy(): void {
    this.commands.flush();
    this.pool.destroy();
    this.#ropeTables.clear();
    if (this.#ownsDevice) this.context.device.destroy();
  }

  fill(t: Tensor, value: number): void {
    check.fill(t, value);
    const g = this.#t(t);
    if (g.length === 0) return;
    if (value === 0 && !Object.is(value, -0)) this.commands.clear(g.buffer, g.offset * 4, g.length * 4);
    else this.#run(ew.fillKernel(g.length), [this.#r(g), new Float32Array([value])]);
  }

  copy(src: Tensor, dst: Tensor): void {
    check.copy(src, dst);
    const s = this.#t(src, src.dtype), d = this.#t(dst, src.dtype);
    if (s.length === 0) return;
    if (s.buffer !== d.buffer) {
      this.commands.copy(s.buffer, s.offset * 4, d.buffer, d.offset * 4, s.length * 4);
    } else this.#run(ew.copyKernel(s.length), [this.#r(s), this.#r(d)]);
  }

  scale(x: Tensor, alpha: number): void {
    check.scale(x, alpha);
    const g = this.#t(x);
    if (g.length) this.#run(ew.scaleKernel(g.length), [this.#r(g), new Float32Array([alpha])]);
  }

  addInto(dst: Tensor, src: Tensor, alpha = 1): void {
    check.addInto(dst, src, alpha);
    const d = this.#t(dst), s = this.#t(src);
    if (d.length) this.#run(ew.addIntoKernel(d.length), [this.#r(d), this.#r(s), new Float32Array([alpha])]);
  }

  sumSquares(x: Tensor, out: Tensor, accumulate = false): void {
    check.sumSquares(x, out);
    const g = this.#t(x), o = this.#t(out, "f32");
    if (g.length === 0) {
      if (!accumulate) this.fill(this.view(o, 0, 1), 0);
      return;
    }
    const [p1, p2] = ew.sumSquaresKernels(g.length, accumulate);
    const partial = this.#scratch(ew.sumSquaresParts(g.length));
    this.#run(p1, [this.#r(g), this.#r(partial)]);
    this.#run(p2, [this.#r(partial), this.#r(o, 1)]);
    this.#release(partial);
  }

  matmul(p: Parameters<Backend["matmul"]>[0]): void {
    check.matmul(p);
    const { m, n, k } = p;
    const a = this.#t(p.a, "f32"), b = this.#t(p.b, "f32");
    const out = this.#t(p.out, "f32");
    if (m === 0 || n === 0) return;
    if (k === 0) {
      const o = this.#viewRange(out, m * n);
      if ((p.beta ?? 0) === 0) this.fill(o, 0);
      else this.scale(o, p.beta ?? 0);
      return;
    }
    const d = this.#mm({ m, n, k, transA: p.transA, transB: p.transB, alpha: p.alpha, beta: p.beta });
    this.#run(d, [this.#r(a, m * k), this.#r(b, k * n), this.#r(out, m * n)]);
  }

  #viewRange(t: GpuTensor, n: number): GpuTensor {
    return new GpuTensor(this, t.buffer, t.offset, n, t.dtype, t.root ?? t);
  }

  embeddingForward(p: Parameters<Backend["embeddingForward"]>[0]): void {
    check.embeddingForward(p);
    const { rows, dim } = p;
    if (rows === 0 || dim === 0) return;
    const tokens = this.#t(p.tokens, "i32"), table = this.#t(p.table);
    const out = this.#t(p.out, "f32");
    const vocab = Math.floor(table.length / dim);
    this.#run(ew.gatherRowsKernel(rows, dim, vocab), [
      this.#r(table, vocab * dim),
      this.#r(tokens, rows),
      this.#r(out, rows * dim),
    ]);
  }

  embeddingBackward(p: Parameters<Backend["embeddingBackward"]>[0]): void {
    check.embeddingBackward(p);
    const { rows, dim } = p;
    if (rows === 0 || dim === 0) return;
    const tokens = this.#t(p.tokens, "i32"),
      dOut = this.#t(p.dOut, "f32");
    const dTable = this.#t(p.dTable);
    const vocab = Math.floor(dTable.length / dim);
    this.#run(ew.embeddingBackwardKernel(rows, dim, vocab), [
      this.#r(tokens, rows),
      this.#r(dOut, rows * dim),
      this.#r(dTable, vocab * dim),
    ]);
  }

  rmsNormForward(p: Parameters<Backend["rmsNormForward"]>[0]): void {
    check.rmsNormForward(p);
    const { rows, dim } = p;
    if (rows === 0 || dim === 0) return;
    const n = rows * dim;
    const x = this.#t(p.x, "f32"), w = this.#t(p.weight, "f32");
    const out = this.#t(p.out, "f32"), rstd = this.#t(p.rstd, "f32");
    this.#run(nm.rmsNormForwardKernel(rows, dim, p.eps), [
      this.#r(x, n),
      this.#r(w, dim),
      this.#r(out, n),
      this.#r(rstd, rows),
    ]);
  }

  rmsNormBackward(p: Parameters<Backend["rmsNormBackward"]>[0]): void {
    check.rmsNormBackward(p);
    const { rows, dim } = p;
    if (rows === 0 || dim === 0) return;
    const n = rows * dim;
    const x = this.#t(p.x, "f32"), w = this.#t(p.weight, "f32");
    const rstd = this.#t(p.rstd, "f32"), dOut = this.#t(p.dOut, "f32");
    const dx = this.#t(p.dx, "f32"), dw = this.#t(p.dWeight, "f32");
    this.#run(nm.rmsNormBackwardDxKernel(rows, dim), [
      this.#r(x, n),
      this.#r(w, dim),
      this.#r(rstd, rows),
      this.#r(dOut, n),
      this.#r(dx, n),
    ]);
    this.#columnReduce(rows, dim, dw, [this.#r(x, n), this.#r(rstd, rows), this.#r(dOut, n)]);
  }

  /** `out[c] += column sums` of one input (`src`) or of the RMSNorm weight-gradient product (`x, rstd, dOut`). */
  #columnReduce(rows: number, dim: number, out: GpuTensor, inputs: BufferRange[]): void {
    const chunks = ew.columnChunks(rows);
    const partial = this.#scratch(chunks * dim);
    this.#run(ew.columnPartialKernel(rows, dim, inputs.length === 3), [...inputs, this.#r(partial)]);
    this.#run(ew.columnFinishKernel(chunks, dim), [this.#r(partial), this.#r(out, dim)]);
    this.#release(partial);
  }

  #rope(headDim: number, theta: number): { table: GpuTensor; invFreq: GpuTensor } {
    const key = `${headDim}/${theta}`;
    let hit = this.#ropeTables.get(key);
    if (!hit) {
      const host = nm.ropeTable(headDim, theta);
      const table = this.alloc(host.table.length) as GpuTensor,
        invFreq = this.alloc(host.invFreq.length) as GpuTensor;
      this.upload(table, host.table);
      this.upload(invFreq, host.invFreq);
      hit = { table, invFreq };
      this.#ropeTables.set(key, hit);
    }
    return hit;
  }

  rope(p: Parameters<Backend["rope"]>[0]): void {
    check.rope(p);
    const { rows, heads, headDim } = p;
    if (headDim % 2 !== 0) throw new RangeError(`rope: headDim must be even, got ${headDim}`);
    if (rows === 0 || heads === 0 || headDim === 0) return;
    const n = rows * heads * headDim;
    const x = this.#t(p.x, "f32"), pos = this.#t(p.positions, "i32");
    const { table, invFreq } = this.#rope(headDim, p.theta);
    this.#run(nm.ropeKernel(rows, heads, headDim, p.inverse ?? false), [
      this.#r(x, n),
      this.#r(pos, rows),
      this.#r(table),
      this.#r(invFreq),
    ]);
  }

  attentionForward(p: Parameters<Backend["attentionForward"]>[0]): void {
    check.attentionForward(p);
    const { batch: B, seqLen: T, heads: H, kvHeads: KV, headDim: D } = p;
    if (B * T * H * D === 0) return;
    const q = this.#t(p.q, "f32"), k = this.#t(p.k, "f32");
    const v = this.#t(p.v, "f32"), out = this.#t(p.out, "f32");
    const lse = this.#t(p.lse, "f32");
    const shape = { batch: B, queryLen: T, keyLen: T, heads: H, kvHeads: KV, headDim: D };
    this.#run(at.attentionForwardKernel(shape, false), [
      this.#r(q, B * T * H * D),
      this.#r(k, B * T * KV * D),
      this.#r(v, B * T * KV * D),
      this.#r(out, B * T * H * D),
      this.#r(lse, B * H * T),
    ]);
  }

  attentionBackward(p: Parameters<Backend["attentionBackward"]>[0]): void {
    check.attentionBackward(p);
    const { batch: B, seqLen: T, heads: H, kvHeads: KV, headDim: D } = p;
    if (B * T * H * D === 0) return;
    const nq = B * T * H * D, nk = B * T * KV * D, nl = B * H * T;
    const r = (t: Tensor, n: number) => this.#r(this.#t(t), n);
    const q = r(p.q, nq), k = r(p.k, nk), v = r(p.v, nk), out = r(p.out, nq);
    const lse = r(p.lse, nl), dO = r(p.dOut, nq);
    const dq = r(p.dq, nq), dk = r(p.dk, nk), dv = r(p.dv, nk);
    const shape = { batch: B, queryLen: T, keyLen: T, heads: H, kvHeads: KV, headDim: D };
    const delta = this.#scratch(nl);
    this.#run(at.attentionDeltaKernel(shape), [out, dO, this.#r(delta)]);
    this.#run(at.attentionBackwardDqKernel(shape), [q, k, v, dO, lse, this.#r(delta), dq]);
    this.#run(at.attentionBackwardDkvKernel(shape), [q, k, v, dO, lse, this.#r(delta), dk, dv]);
    this.#release(delta);
  }

  kvCacheWrite(p: Parameters<Backend["kvCacheWrite"]>[0]): void {
    check.kvCacheWrite(p);
    const { batch, queryLen, capacity, width } = p;
    if (batch * queryLen * width === 0) return;
    const src = this.#t(p.src, "f32");
    const cache = this.#t(p.cache, "f32");
    const lengths = this.#t(p.lengths, "i32");
    this.#run(ew.kvCacheWriteKernel(batch, queryLen, capacity, width), [
      this.#r(src, batch * queryLen * width),
      this.#r(lengths, batch),
      this.#r(cache, batch * capacity * width),
    ]);
  }

  attentionCached(p: Parameters<Backend["attentionCached"]>[0]): void {
    check.attentionCached(p);
    const { batch: B, queryLen: Q, capacity: C, heads: H, kvHeads: KV, headDim: D } = p;
    if (B * Q * H * D === 0) return;
    const q = this.#t(p.q, "f32"), out = this.#t(p.out, "f32");
    const kc = this.#t(p.kCache, "f32");
    const vc = this.#t(p.vCache, "f32");
    const lengths = this.#t(p.lengths, "i32");
    const shape = { batch: B, queryLen: Q, keyLen: C, heads: H, kvHeads: KV, headDim: D };
    const d = Q === 1
      ? at.attentionDecodeKernel({ batch: B, keyLen: C, heads: H, kvHeads: KV, headDim: D })
      : at.attentionForwardKernel(shape, true);
    this.#run(d, [
      this.#r(q, B * Q * H * D),
      this.#r(kc, B * C * KV * D),
      this.#r(vc, B * C * KV * D),
      this.#r(lengths, B),
      this.#r(out, B * Q * H * D),
    ]);
  }

  swigluForward(p: Parameters<Backend["swigluForward"]>[0]): void {
    check.swigluForward(p);
    const n = p.length;
    if (n === 0) return;
    const r = (t: Tensor) => this.#r(this.#t(t), n);
    this.#run(ew.swigluForwardKernel(n), [r(p.gate), r(p.up), r(p.out)]);
  }

  swigluBackward(p: Parameters<Backend["swigluBackward"]>[0]): void {
    check.swigluBackward(p);
    const n = p.length;
    if (n === 0) return;
    const r = (t: Tensor) => this.#r(this.#t(t), n);
    this.#run(ew.swigluBackwardKernel(n), [
      r(p.gate),
      r(p.up),
      r(p.dOut),
      r(p.dGate),
      r(p.dUp),
    ]);
  }

  addBias(p: Parameters<Backend["addBias"]>[0]): void {
    check.addBias(p);
    const { rows, dim } = p;
    if (rows * dim === 0) return;
    const x = this.#t(p.x, "f32"), bias = this.#t(p.bias, "f32");
    this.#run(ew.addBiasKernel(rows, dim), [this.#r(x, rows * dim), this.#r(bias, dim)]);
  }

  biasGrad(p: Parameters<Backend["biasGrad"]>[0]): void {
    check.biasGrad(p);
    const { rows, dim } = p;
    if (rows * dim === 0) return;
    const d = this.#t(p.dOut, "f32"), db = this.#t(p.dBias, "f32");
    this.#columnReduce(rows, dim, db, [this.#r(d, rows * dim)]);
  }

  gatherRows(p: Parameters<Backend["gatherRows"]>[0]): void {
    check.gatherRows(p);
    const { count, width } = p;
    if (count * width === 0) return;
    const src = this.#t(p.src), idx = this.#t(p.indices, "i32");
    const out = this.#t(p.out, "f32");
    const srcRows = Math.floor(src.length / width);
    this.#run(ew.gatherRowsKernel(count, width, srcRows), [
      this.#r(src, srcRows * width),
      this.#r(idx, count),
      this.#r(out, count * width),
    ]);
  }

  scatterAddRows(p: Parameters<Backend["scatterAddRows"]>[0]): void {
    check.scatterAddRows(p);
    const { count, width } = p;
    if (count * width === 0) return;
    const src = this.#t(p.src, "f32"),
      idx = this.#t(p.indices, "i32");
    const dst = this.#t(p.dst);
    const dstRows = Math.floor(dst.length / width);
    this.#run(ew.scatterAddRowsKernel(count, width, dstRows), [
      this.#r(src, count * width),
      this.#r(idx, count),
      this.#r(dst, dstRows * width),
    ]);
  }

  /** Rows per LM-head chunk: a multiple of 64 so that row views stay aligned. */
  #lmChunk(rows: number, vocab: number): number {
    const limit = Math.min(256 * 2 ** 20, this.context.info.limits.maxStorageBufferBindingSize);
    const fit = this.#chunkRows ?? Math.min(1024, Math.floor(limit / (vocab * 4)));
    const chunk = Math.max(VIEW_ALIGN, Math.floor(fit / VIEW_ALIGN) * VIEW_ALIGN);
    return Math.min(chunk, Math.ceil(rows / VIEW_ALIGN) * VIEW_ALIGN);
  }

  #lmOperands(p: LmHeadForwardParams | LmHeadBackwardParams) {
    return {
      hidden: this.#t(p.hidden, "f32"),
      weight: this.#t(p.weight, "f32"),
      targets: this.#t(p.targets, "i32"),
      lse: this.#t(p.lse, "f32"),
    };
  }

  lmHeadForward(p: LmHeadForwardParams): void {
    check.lmHeadForward(p);
    const { rows, dim, vocab } = p;
    const { hidden, weight, targets, lse } = this.#lmOperands(p);
    const logprobs = this.#t(p.logprobs, "f32");
    const entropies = this.#t(p.entropies, "f32");
    if (rows === 0 || vocab === 0) return;
    const chunk = this.#lmChunk(rows, vocab);
    const logits = this.#scratch(chunk * vocab);
    const sub = (t: GpuTensor, r0: number, n: number, w = 1) => this.#r(this.#viewAt(t, r0 * w), n * w);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      this.#run(this.#mm({ m: n, n: vocab, k: dim, transB: true }), [
        sub(hidden, r0, n, dim),
        this.#r(weight, vocab * dim),
        this.#r(logits, n * vocab),
      ]);
      this.#run(lmHeadStatsKernel(n, vocab), [
        this.#r(logits, n * vocab),
        sub(targets, r0, n),
        sub(logprobs, r0, n),
        sub(entropies, r0, n),
        sub(lse, r0, n),
      ]);
    }
    this.#release(logits);
  }

  #viewAt(t: GpuTensor, offset: number): GpuTensor {
    return new GpuTensor(this, t.buffer, t.offset + offset, t.length - offset, t.dtype, t.root ?? t);
  }

  lmHeadBackward(p: LmHeadBackwardParams): void {
    check.lmHeadBackward(p);
    const { rows, dim, vocab } = p;
    const { hidden, weight, targets, lse } = this.#lmOperands(p);
    const coeffs = this.#t(p.coeffs, "f32");
    const dHidden = this.#t(p.dHidden, "f32");
    const dWeight = this.#t(p.dWeight, "f32");
    if (rows === 0 || vocab === 0) return;
    const chunk = this.#lmChunk(rows, vocab);
    const logits = this.#scratch(chunk * vocab);
    const sub = (t: GpuTensor, r0: number, n: number, w = 1) => this.#r(this.#viewAt(t, r0 * w), n * w);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      const h = sub(hidden, r0, n, dim), z = this.#r(logits, n * vocab);
      this.#run(this.#mm({ m: n, n: vocab, k: dim, transB: true }), [h, this.#r(weight, vocab * dim), z]);
      this.#run(lmHeadGradKernel(n, vocab), [z, sub(targets, r0, n), sub(lse, r0, n), sub(coeffs, r0, n)]);
      this.#run(this.#mm({ m: n, n: dim, k: vocab }), [
        z,
        this.#r(weight, vocab * dim),
        sub(dHidden, r0, n, dim),
      ]);
      this.#run(this.#mm({ m: vocab, n: dim, k: n, transA: true, beta: 1 }), [
        z,
        h,
        this.#r(dWeight, vocab * dim),
      ]);
    }
    this.#release(logits);
  }

  adamw(p: AdamWParams): void {
    check.adamw(p);
    const params = this.#t(p.params);
    const n = params.length;
    const g = this.#t(p.grads, "f32"), m = this.#t(p.m, "f32");
    const v = this.#t(p.v, "f32");
    const u = ew.adamwUniform({ ...p, gradScale: p.gradScale ?? 1 });
    if (n === 0) return;
    this.#run(ew.adamwKernel(n), [this.#r(params, n), this.#r(g, n), this.#r(m, n), this.#r(v, n), u]);
  }
}
