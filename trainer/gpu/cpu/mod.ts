/**
 * The CPU backend: the {@linkcode Backend} interface over host Float32Array/Int32Array memory. It is the oracle
 * every other backend is tested against and the fallback when no GPU adapter exists. Views are subarrays of the
 * same memory, so they alias exactly as device views do.
 *
 * @module
 */

import { type Backend, type DType, type Tensor, VIEW_ALIGN } from "../backend.ts";
import { check } from "../checks.ts";
import { CpuEngine } from "./engine.ts";
import { MAX_THREADS } from "./pool.ts";
import { ELEMENTWISE } from "./simd.ts";
import { matmulF32 } from "./matmul.ts";
import * as k from "./kernels.ts";
import * as att from "./attention.ts";
import { lmHeadBackward, lmHeadForward } from "./lm_head.ts";
import { addBiasRows, biasGradRows, rmsNormBackwardRows, rmsNormForwardRows, ropeRows } from "./row_ops.ts";

/** A CPU tensor: its elements live in `data`. */
export class CpuTensor implements Tensor {
  /** Host memory (a subarray for views). */
  readonly data: Float32Array | Int32Array;
  /** Element type. */
  readonly dtype: DType;
  /** True once freed. */
  freed = false;
  /** The allocation a view belongs to (itself for an allocation). */
  readonly root: CpuTensor | null;
  /**
   * Of an allocation: bumped by every op that writes into it or into one of its views, so that work derived from
   * its contents (a packed weight matrix) can be reused while the count stays the same.
   */
  version = 0;

  /** Wraps host memory; `root` is the allocation a view aliases. */
  constructor(data: Float32Array | Int32Array, root: CpuTensor | null = null) {
    this.data = data;
    this.dtype = data instanceof Int32Array ? "i32" : "f32";
    this.root = root;
  }

  /** Number of elements. */
  get length(): number {
    return this.data.length;
  }

  /** The allocation this tensor's memory belongs to (itself, or a view's root). */
  get allocation(): CpuTensor {
    return this.root ?? this;
  }

  /** The allocation and its version now: what identifies this tensor's contents to the engine's caches. */
  get key(): { owner: CpuTensor; version: number } {
    const owner = this.allocation;
    return { owner, version: owner.version };
  }
}

function cpu(t: Tensor): CpuTensor {
  if (!(t instanceof CpuTensor)) throw new TypeError("cpu backend: tensor was made by another backend");
  if (t.freed || t.root?.freed) throw new Error("cpu backend: tensor used after free");
  return t;
}

function f32(t: Tensor): Float32Array {
  const c = cpu(t);
  if (!(c.data instanceof Float32Array)) throw new TypeError("cpu backend: expected an f32 tensor, got i32");
  return c.data;
}

/** The host memory of an f32 tensor an op writes into (counted in its allocation's version). */
function out32(t: Tensor): Float32Array {
  const a = f32(t), c = t as CpuTensor;
  c.allocation.version++;
  return a;
}

function i32(t: Tensor): Int32Array {
  const c = cpu(t);
  if (!(c.data instanceof Int32Array)) throw new TypeError("cpu backend: expected an i32 tensor, got f32");
  return c.data;
}

/** The host memory of a CPU tensor as f32 (tests and CPU-only code paths; the caller may write into it). */
export function cpuF32(t: Tensor): Float32Array {
  return out32(t);
}

/** Options of {@linkcode createCpuBackend}. */
export interface CpuBackendOptions {
  /** Threads the kernels run on (default: the machine's logical cores, `navigator.hardwareConcurrency`). */
  threads?: number;
}

/** The CPU backend: a {@linkcode Backend} that also says how many threads it runs and how many are alive. */
export interface CpuBackend extends Backend {
  /** Threads the kernels run on (1 where WebAssembly SIMD is missing: plain TypeScript then). */
  readonly threads: number;
  /** Worker threads alive now (0 once destroyed; idle workers also exit by themselves after a second). */
  readonly liveWorkers: number;
}

/** The machine's logical cores as the runtime reports them (1 when unknown). */
export function defaultThreads(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : undefined;
  return Number.isInteger(n) && (n as number) >= 1 ? Math.min(n as number, MAX_THREADS) : 1;
}

/** Creates a CPU backend on `opts.threads` threads. */
export function createCpuBackend(opts: CpuBackendOptions = {}): CpuBackend {
  const threads = opts.threads ?? defaultThreads();
  const engine = CpuEngine.create(threads);
  const backend: CpuBackend = {
    name: "cpu",
    device: engine
      ? `cpu (${engine.isa}, ${engine.threads} thread${engine.threads === 1 ? "" : "s"})`
      : "cpu (TypeScript, one thread)",
    threads: engine ? engine.threads : 1,
    get liveWorkers() {
      return engine ? engine.liveWorkers : 0;
    },

    alloc(length: number, dtype: DType = "f32"): Tensor {
      if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc: bad length ${length}`);
      return new CpuTensor(dtype === "i32" ? new Int32Array(length) : new Float32Array(length));
    },
    free(t: Tensor): void {
      const c = cpu(t);
      if (c.root) throw new Error("free: cannot free a view; free its allocation");
      c.freed = true;
    },
    view(t: Tensor, offset: number, length: number): Tensor {
      const c = cpu(t);
      if (offset % VIEW_ALIGN !== 0) {
        throw new RangeError(`view: offset ${offset} not a multiple of ${VIEW_ALIGN}`);
      }
      if (offset < 0 || length < 0 || offset + length > c.length) {
        throw new RangeError(`view: [${offset}, ${offset + length}) outside a tensor of ${c.length}`);
      }
      return new CpuTensor(c.data.subarray(offset, offset + length), c.allocation);
    },
    upload(t: Tensor, data: Float32Array | Int32Array, offset = 0): void {
      const c = cpu(t);
      if ((data instanceof Int32Array) !== (c.dtype === "i32")) {
        throw new TypeError(`upload: ${data.constructor.name} into an ${c.dtype} tensor`);
      }
      if (offset + data.length > c.length) {
        throw new RangeError(`upload: ${data.length} elements at ${offset} overflow a tensor of ${c.length}`);
      }
      c.data.set(data, offset);
      c.allocation.version++;
    },
    download(t: Tensor): Promise<Float32Array> {
      return Promise.resolve(f32(t).slice());
    },
    downloadInt(t: Tensor): Promise<Int32Array> {
      return Promise.resolve(i32(t).slice());
    },
    flush(): Promise<void> {
      return Promise.resolve();
    },
    destroy(): void {
      engine?.destroy();
    },

    fill(t: Tensor, value: number): void {
      check.fill(t, value);
      out32(t).fill(value);
    },
    copy(src: Tensor, dst: Tensor): void {
      check.copy(src, dst);
      const s = cpu(src), d = cpu(dst), owner = d.allocation, before = owner.version;
      d.data.set(s.data);
      owner.version++;
      // A KV cache's sequence moved to another slot: its mirror in kernel memory follows.
      if (s.allocation === owner && s.data instanceof Float32Array && d.data instanceof Float32Array) {
        const mirror = engine?.followMirror(owner, before, owner.version);
        if (mirror) mirror(d.data).set(mirror(s.data));
      }
    },
    scale(x: Tensor, alpha: number): void {
      check.scale(x, alpha);
      const a = out32(x);
      for (let i = 0; i < a.length; i++) a[i] *= alpha;
    },
    addInto(dst: Tensor, src: Tensor, alpha = 1): void {
      check.addInto(dst, src, alpha);
      const d = out32(dst), s = f32(src);
      for (let i = 0; i < d.length; i++) d[i] += alpha * s[i];
    },
    sumSquares(x: Tensor, out: Tensor, accumulate = false): void {
      check.sumSquares(x, out);
      const a = f32(x);
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * a[i];
      const o = out32(out);
      o[0] = accumulate ? o[0] + s : s;
    },

    matmul(p) {
      check.matmul(p);
      matmulF32(
        f32(p.a),
        f32(p.b),
        out32(p.out),
        {
          m: p.m,
          n: p.n,
          k: p.k,
          transA: p.transA ?? false,
          transB: p.transB ?? false,
          alpha: p.alpha ?? 1,
          beta: p.beta ?? 0,
        },
        engine,
        cpu(p.b).key, // after out32: a product written into B's own allocation changes B's version
      );
    },
    embeddingForward(p) {
      check.embeddingForward(p);
      k.embeddingForward(i32(p.tokens), f32(p.table), out32(p.out), p.rows, p.dim);
    },
    embeddingBackward(p) {
      check.embeddingBackward(p);
      k.embeddingBackward(i32(p.tokens), f32(p.dOut), out32(p.dTable), p.rows, p.dim);
    },
    rmsNormForward(p) {
      check.rmsNormForward(p);
      const args = [f32(p.x), f32(p.weight), out32(p.out), out32(p.rstd), p.rows, p.dim, p.eps] as const;
      if (!(engine && rmsNormForwardRows(engine, ...args))) k.rmsNormForward(...args);
    },
    rmsNormBackward(p) {
      check.rmsNormBackward(p);
      const args = [
        f32(p.x),
        f32(p.weight),
        f32(p.rstd),
        f32(p.dOut),
        out32(p.dx),
        out32(p.dWeight),
        p.rows,
        p.dim,
      ] as const;
      if (!(engine && rmsNormBackwardRows(engine, ...args))) k.rmsNormBackward(...args);
    },
    rope(p) {
      check.rope(p);
      const args = [
        out32(p.x),
        i32(p.positions),
        p.rows,
        p.heads,
        p.headDim,
        p.theta,
        p.inverse ?? false,
      ] as const;
      if (!(engine && ropeRows(engine, ...args))) k.rope(...args);
    },
    attentionForward(p) {
      check.attentionForward(p);
      const [q, kk, v, out, lse] = [f32(p.q), f32(p.k), f32(p.v), out32(p.out), out32(p.lse)];
      if (engine?.attentionForward(q, kk, v, out, lse, p)) return;
      att.attentionForward(q, kk, v, out, lse, p, engine);
    },
    attentionBackward(p) {
      check.attentionBackward(p);
      const [q, kk, v, out, lse, dOut] = [p.q, p.k, p.v, p.out, p.lse, p.dOut].map(f32);
      const [dq, dk, dv] = [p.dq, p.dk, p.dv].map(out32);
      if (engine?.attentionBackward(q, kk, v, out, lse, dOut, dq, dk, dv, p)) return;
      att.attentionBackward(q, kk, v, out, lse, dOut, dq, dk, dv, p, engine);
    },
    kvCacheWrite(p) {
      check.kvCacheWrite(p);
      const owner = cpu(p.cache).allocation, before = owner.version;
      const [src, cache, lengths] = [f32(p.src), out32(p.cache), i32(p.lengths)];
      att.kvCacheWrite(src, cache, lengths, p.width, p);
      const mirror = engine?.followMirror(owner, before, owner.version);
      if (mirror) att.kvCacheWrite(src, mirror(cache), lengths, p.width, p);
    },
    attentionCached(p) {
      check.attentionCached(p);
      const [q, kc, vc, lengths, out] = [
        f32(p.q),
        f32(p.kCache),
        f32(p.vCache),
        i32(p.lengths),
        out32(p.out),
      ];
      const { batch, queryLen, capacity } = p;
      for (let b = 0; b < batch; b++) {
        if (!(lengths[b] >= 0 && lengths[b] + queryLen <= capacity)) {
          throw new RangeError(
            `attentionCached: sequence ${b} length ${lengths[b]} + ${queryLen} > capacity ${capacity}`,
          );
        }
      }
      const caches = { keys: cpu(p.kCache).key, values: cpu(p.vCache).key };
      if (engine?.attentionCached(q, kc, vc, lengths, out, p, caches)) return;
      att.attentionCached(q, kc, vc, lengths, out, p);
    },
    swigluForward(p) {
      check.swigluForward(p);
      const arrays = [f32(p.gate), f32(p.up), out32(p.out)];
      if (engine?.elementwise(ELEMENTWISE.swigluForward, arrays, [false, false, true], p.length)) return;
      k.swigluForward(arrays[0], arrays[1], arrays[2], p.length);
    },
    swigluBackward(p) {
      check.swigluBackward(p);
      const arrays = [f32(p.gate), f32(p.up), f32(p.dOut), out32(p.dGate), out32(p.dUp)];
      if (
        engine?.elementwise(ELEMENTWISE.swigluBackward, arrays, [false, false, false, true, true], p.length)
      ) {
        return;
      }
      k.swigluBackward(arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], p.length);
    },
    addBias(p) {
      check.addBias(p);
      const args = [out32(p.x), f32(p.bias), p.rows, p.dim] as const;
      if (!(engine && addBiasRows(engine, ...args))) k.addBias(...args);
    },
    biasGrad(p) {
      check.biasGrad(p);
      const args = [f32(p.dOut), out32(p.dBias), p.rows, p.dim] as const;
      if (!(engine && biasGradRows(engine, ...args))) k.biasGrad(...args);
    },
    gatherRows(p) {
      check.gatherRows(p);
      k.gatherRows(f32(p.src), i32(p.indices), out32(p.out), p.count, p.width);
    },
    scatterAddRows(p) {
      check.scatterAddRows(p);
      k.scatterAddRows(f32(p.src), i32(p.indices), out32(p.dst), p.count, p.width);
    },
    lmHeadForward(p) {
      check.lmHeadForward(p);
      lmHeadForward(
        f32(p.hidden),
        f32(p.weight),
        i32(p.targets),
        out32(p.logprobs),
        out32(p.entropies),
        out32(p.lse),
        p,
        engine,
      );
    },
    lmHeadBackward(p) {
      check.lmHeadBackward(p);
      lmHeadBackward(
        f32(p.hidden),
        f32(p.weight),
        i32(p.targets),
        f32(p.lse),
        f32(p.coeffs),
        out32(p.dHidden),
        out32(p.dWeight),
        p,
        engine,
      );
    },
    adamw(p) {
      check.adamw(p);
      k.adamw(out32(p.params), f32(p.grads), out32(p.m), out32(p.v), {
        lr: p.lr,
        beta1: p.beta1,
        beta2: p.beta2,
        eps: p.eps,
        weightDecay: p.weightDecay,
        step: p.step,
        gradScale: p.gradScale ?? 1,
      });
    },
  };
  return backend;
}
