/**
 * The CPU backend's compute engine: the WebAssembly SIMD kernels of `simd.ts` instantiated over one memory
 * (shared with a {@linkcode ThreadPool} when more than one thread is asked for), and the blocked matmul built on
 * them, with SwiGLU and causal attention. Operands live in JavaScript arrays; a matmul copies them into the
 * memory, packs op(A) and op(B) once (a parallel job over row and column blocks, `KC` reduction steps at a
 * time), runs the register-tiled micro-kernel over one task per output tile `[MC rows, NC columns]`, and copies
 * the result back. A B operand whose allocation nothing has written since the last call (a weight, between
 * optimizer steps) keeps its packed form in a region of the memory, so decoding packs each weight once, not at
 * every step. KV caches are mirrored in a resident region between decoding steps (writes applied to the mirror
 * through `followMirror` keep it current; any other write leaves it stale, and the next cached attention copies
 * the cache again). Row operations (RMSNorm, RoPE, biases, the LM head's softmax) run as row jobs split by whole rows.
 * Every output's reduction runs in the same order whatever the tiling and however many rows share the call, so
 * results depend neither on the thread count nor on the batch a row is computed in.
 *
 * @module
 */

import {
  AT,
  ATTENTION_HELPERS,
  attentionBackwardTile,
  attentionForwardTile,
  attentionRowsBackwardTile,
  attentionRowsCachedTile,
  attentionRowsForwardTile,
  QB,
  rowsStride,
} from "./attention_tasks.ts";
import { CONTROL_BYTES, MAX_THREADS, type Task, ThreadPool } from "./pool.ts";
import { type KernelExports, kernelModule, MR, NR } from "./simd.ts";

/** Shape of an attention call. */
export interface AttentionShape {
  batch: number;
  seqLen: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** Shape of a KV-cache call. */
export interface CacheShape {
  batch: number;
  queryLen: number;
  capacity: number;
}

/** Shape and options of a matmul: `out[m, n] = alpha * op(a) @ op(b) + beta * out`. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
}

/**
 * Identifies the contents of a matmul's B operand: `owner` is the allocation it lies in, whose `version` changes
 * whenever anything writes into it. While both stay the same, B's packed form is reused (weights during decoding).
 */
export interface OperandKey {
  owner: object;
  version: number;
}

/** Bytes of packed operands kept between calls (weights of the presets the CPU trains and decodes fit). */
const CACHE_BYTES = 32 << 20;

/**
 * Default bound of the resident region, where KV caches are mirrored between decoding steps (evaluating 1000
 * prompts of the tiny preset holds about 50 MB there). When a new mirror would pass it, every mirror is dropped
 * and the region starts over.
 */
const RESIDENT_BYTES = 256 << 20;

/** An allocation mirrored in the resident region: equal to it while `version` is the allocation's version. */
interface ResidentEntry {
  version: number;
  at: number;
  bytes: number;
}

/** An allocation the engine may mirror (a KV cache): its whole memory, and whether it was freed. */
export interface ResidentOwner {
  readonly data: Float32Array | Int32Array;
  readonly freed: boolean;
}

/** A view's allocation and that allocation's version: `key.owner.data` contains the view. */
export type ResidentKey = OperandKey & { owner: ResidentOwner };

/** A packed B operand kept in the cache region (or seen once, `at` null). */
interface CacheEntry {
  version: number;
  at: number | null;
  generation: number;
}

/** Reduction steps per packed block. */
const KC = 256;
/** Largest output tile (rows x columns) of one task. */
const MC_MAX = 12 * MR, NC_MAX = 16 * NR;
/** Bytes of one thread's scratch (attention's products pack into it): a packed A block and a packed B block. */
const SCRATCH_BYTES = (MC_MAX * KC + KC * NC_MAX) * 4;
/**
 * Below this many flops a matmul runs on the calling thread only. Workers spin a moment between jobs (`pool.ts`),
 * so a job reaches them in about a microsecond; the products of a decoding step (batch 16-64 rows against each
 * weight, 1-6 MFLOP) are worth splitting.
 */
const PARALLEL_MIN_FLOPS = 1 << 20;
/** From this many flops a matmul is split over threads even while the pool is contended. */
const PARALLEL_CONTENDED_FLOPS = 1 << 23;

// Argument slots of a gemm job (Int32 offsets from the job's first slot).
const G = {
  A: 0,
  B: 1,
  C: 2,
  M: 3,
  N: 4,
  K: 5,
  ASI: 6,
  ASP: 7,
  BSP: 8,
  BSJ: 9,
  LDC: 10,
  ACC: 11,
  ALPHA: 12,
  TILES_N: 13,
  MC: 14,
  NC: 15,
  KC: 16,
  MR: 17,
  NR: 18,
  PA: 19,
  PB: 20,
  TILES_A: 21,
} as const;

// Packing (first job of a gemm): tile t < TILES_A packs rows [t*MC, +MC) of op(A), a later one columns
// [(t-TILES_A)*NC, +NC) of op(B), for every KC-step block. Packed A holds, per block starting at p0 (kc
// steps), mp x kc floats at PA + p0*mp: row panel i0/MR at i0*kc; packed B likewise kc x np at PB + p0*np, column
// panel j0/NR at j0*kc. Each tile is self-contained (it runs on workers): slots are literals in the order of `G`.
// Strides are in bytes: A(i, p) at a + i*asi + p*asp, B(p, j) at b + p*bsp + j*bsj.
const packTile: Task = (ex, i32, _f32, at, tile) => {
  const pa = i32[at], pb = i32[at + 1], m = i32[at + 3], n = i32[at + 4], k = i32[at + 5];
  const asi = i32[at + 6], asp = i32[at + 7], bsp = i32[at + 8], bsj = i32[at + 9];
  const MC = i32[at + 14], NC = i32[at + 15], KC = i32[at + 16], MR = i32[at + 17], NR = i32[at + 18];
  const PA = i32[at + 19], PB = i32[at + 20], tilesA = i32[at + 21];
  const mp = Math.ceil(m / MR) * MR, np = Math.ceil(n / NR) * NR;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    if (tile < tilesA) {
      const i0 = tile * MC, mcv = Math.min(MC, m - i0), mcp = Math.ceil(mcv / MR) * MR;
      ex.pack_a(pa + i0 * asi + p0 * asp, asi, asp, PA + (p0 * mp + i0 * kc) * 4, mcv, mcp, kc);
    } else {
      const j0 = (tile - tilesA) * NC, ncv = Math.min(NC, n - j0), ncp = Math.ceil(ncv / NR) * NR;
      ex.pack_b(pb + p0 * bsp + j0 * bsj, bsp, bsj, PB + (p0 * np + j0 * kc) * 4, kc, ncv, ncp);
    }
  }
};

// One output tile [MC rows, NC columns] of a gemm job, from the packed operands.
const gemmTile: Task = (ex, i32, f32, at, tile) => {
  const pc = i32[at + 2], m = i32[at + 3], n = i32[at + 4], k = i32[at + 5], ldc = i32[at + 10];
  const accumulate = i32[at + 11], alpha = f32[at + 12], tilesN = i32[at + 13];
  const MC = i32[at + 14], NC = i32[at + 15], KC = i32[at + 16], MR = i32[at + 17], NR = i32[at + 18];
  const PA = i32[at + 19], PB = i32[at + 20];
  const mp = Math.ceil(m / MR) * MR, np = Math.ceil(n / NR) * NR;
  const ib = Math.floor(tile / tilesN), jb = tile - ib * tilesN;
  const i0 = ib * MC, j0 = jb * NC;
  const mcp = Math.ceil(Math.min(MC, m - i0) / MR) * MR, ncp = Math.ceil(Math.min(NC, n - j0) / NR) * NR;
  // Fewer rows than a panel: the kernel that computes only those (same multiply-add order as `macro`).
  const kernel = m < MR ? ex[`macro_r${m}`] : ex.macro;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    const ap = PA + (p0 * mp + i0 * kc) * 4, bp = PB + (p0 * np + j0 * kc) * 4;
    kernel(ap, bp, pc + i0 * ldc + j0 * 4, ldc, mcp, ncp, kc, alpha, p0 > 0 || accumulate ? 1 : 0);
  }
};

// One chunk of an elementwise job: args are the kernel index, the chunk length, the float count and five byte
// pointers; the chunk's pointers are offset by its first element.
const elementwiseTile: Task = (ex, i32, _f32, at, tile) => {
  const chunk = i32[at + 1], count = i32[at + 2], start = tile * chunk, bytes = start * 4;
  const p = (q: number) => (i32[at + 3 + q] === 0 ? 0 : i32[at + 3 + q] + bytes);
  ex["ew" + i32[at]](p(0), p(1), p(2), p(3), p(4), Math.min(chunk, count - start));
};

// Rows [tile*chunk, +chunk) of a row job: args are the kernel index, the chunk, the rows, dim, aux, the f32
// param and five byte pointers.
const rowsTile: Task = (ex, i32, f32, at, tile) => {
  const chunk = i32[at + 1], r0 = tile * chunk, r1 = Math.min(i32[at + 2], r0 + chunk);
  const p = (q: number) => i32[at + 6 + q];
  ex["rk" + i32[at]](p(0), p(1), p(2), p(3), p(4), r0, r1, i32[at + 3], i32[at + 4], f32[at + 5]);
};

/** Task ids (indices into the pool's task list). */
const TASKS: readonly Task[] = [
  gemmTile,
  elementwiseTile,
  attentionForwardTile,
  attentionBackwardTile,
  packTile,
  attentionRowsCachedTile,
  attentionRowsForwardTile,
  attentionRowsBackwardTile,
  rowsTile,
];
const GEMM = 0, ELEMENTWISE_TASK = 1, ATTENTION_FORWARD = 2, ATTENTION_BACKWARD = 3, PACK = 4;
const ATTENTION_CACHED = 5, ATTENTION_ROWS_FORWARD = 6, ATTENTION_ROWS_BACKWARD = 7, ROWS = 8;
/**
 * Widest head (a multiple of 4) whose causal attention runs on the row kernels, which give the blocked path's
 * results bit for bit: up to it they are faster (measured: 1.6x forward, 1.3x backward at 16 x 48 tokens, 4 heads
 * of 16); from 32 on the blocked path's micro-kernel products win.
 */
export const ROWS_MAX_HEAD_DIM = 16;

/** Options of {@linkcode CpuEngine.create}. */
export interface EngineOptions {
  /** Whether small heads' causal attention may run on the row kernels (default true; tests compare the paths). */
  rowKernels?: boolean;
  /** Bound of the region that mirrors KV caches (default 256 MiB; tests make it small to exercise its refills). */
  residentBytes?: number;
}
/** Below this much attention work (batch * heads * seqLen^2 * headDim) it runs on the calling thread only. */
const ATTENTION_PARALLEL_MIN = 1 << 20;
/** Below this much cached attention work (cached slots read * heads * headDim) it runs on the calling thread only. */
const CACHED_PARALLEL_MIN = 1 << 16;

/** How a row job treats an operand: read it, write it (not read), or both. */
export type RowOperand = "in" | "out" | "inout";

/** Floats of a row job from which its rows are split across threads (by chunks of whole rows). */
const ROWS_PARALLEL_MIN = 1 << 15, ROWS_CONTENDED_MIN = 1 << 18;

/** Most floats per chunk of an elementwise job, and the fewest floats worth threading. */
const EW_CHUNK = 16384, EW_PARALLEL_MIN = 1 << 14, EW_CONTENDED_MIN = 1 << 17;

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** The SIMD kernels over one memory, with a pool of `threads - 1` workers. */
export class CpuEngine {
  /** Threads a parallel kernel runs on (the calling one included). */
  readonly threads: number;
  /** Whether the multiply-add is relaxed SIMD's fused one. */
  readonly relaxed: boolean;
  readonly #rowKernels: boolean;
  readonly #memory: WebAssembly.Memory;
  readonly #pool: ThreadPool;
  // Transient operands of one call start here, past the resident region (moved up when that grows).
  #opsBase: number;
  readonly #scratchBase: number;
  readonly #cacheBase: number;
  readonly #residentBase: number;
  readonly #residentBytes: number;
  #residentEnd: number;
  // Mirrored allocations, and the blocks freed ones gave back.
  readonly #resident = new Map<ResidentOwner, ResidentEntry>();
  #residentFree: { at: number; bytes: number }[] = [];
  #cacheUsed = 0;
  // Bumped when the cache region is emptied; entries of an older generation are gone.
  #cacheGeneration = 0;
  readonly #cache = new WeakMap<object, Map<string, CacheEntry>>();
  #f32: Float32Array;

  private constructor(threads: number, opts: EngineOptions) {
    this.#rowKernels = opts.rowKernels ?? true;
    this.#residentBytes = opts.residentBytes ?? RESIDENT_BYTES;
    const mod = kernelModule(threads > 1);
    if (!mod) throw new Error("no WebAssembly SIMD");
    this.threads = threads;
    this.relaxed = mod.relaxed;
    const scratchBase = align64(CONTROL_BYTES);
    this.#cacheBase = scratchBase + threads * SCRATCH_BYTES;
    this.#residentBase = this.#residentEnd = this.#opsBase = this.#cacheBase + CACHE_BYTES;
    const pages = Math.ceil(this.#opsBase / 65536) + 1;
    this.#memory = threads > 1
      ? new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true })
      : new WebAssembly.Memory({ initial: pages });
    const ex = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes), { env: { mem: this.#memory } })
      .exports as unknown as KernelExports;
    this.#scratchBase = scratchBase;
    this.#pool = new ThreadPool(
      this.#memory,
      mod.bytes,
      ex,
      TASKS,
      ATTENTION_HELPERS,
      threads,
      (t) => scratchBase + t * SCRATCH_BYTES,
    );
    this.#f32 = new Float32Array(this.#memory.buffer);
  }

  /** An engine on `threads` threads, or null where the runtime lacks WebAssembly SIMD (or shared memory). */
  static create(threads: number, opts: EngineOptions = {}): CpuEngine | null {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new RangeError(`cpu backend: threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
    }
    try {
      return new CpuEngine(threads, opts);
    } catch {
      return null;
    }
  }

  /** The instruction set, for the backend's device string. */
  get isa(): string {
    return this.relaxed ? "WebAssembly SIMD128 + relaxed FMA" : "WebAssembly SIMD128";
  }

  /** Worker threads currently alive (0 after {@linkcode destroy}). */
  get liveWorkers(): number {
    return this.#pool.liveWorkers;
  }

  // The memory as f32, grown to at least `bytes`; null when WebAssembly's 4 GiB limit is in the way.
  #reserve(bytes: number): Float32Array | null {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) {
      try {
        this.#memory.grow(Math.ceil((bytes - have) / 65536));
      } catch {
        return null;
      }
    }
    if (this.#f32.buffer.byteLength !== this.#memory.buffer.byteLength) {
      this.#f32 = new Float32Array(this.#memory.buffer);
    }
    return this.#f32;
  }

  /**
   * `out = alpha * op(a) @ op(b) + beta * out`. Returns false (doing nothing) when the operands do not fit in
   * WebAssembly memory. The caller has checked the operand lengths. With `bKey`, B's packed form is kept from the
   * second call that finds B unchanged on, and reused while it stays so.
   */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulShape, bKey?: OperandKey): boolean {
    const { m, n, k, transA, transB, alpha, beta } = s;
    if (m === 0 || n === 0) return true;
    const np = Math.ceil(n / NR) * NR, mp = Math.ceil(m / MR) * MR;
    const aOff = this.#opsBase, bOff = aOff + align64(m * k * 4), cOff = bOff + align64(k * n * 4);
    const paOff = cOff + align64(mp * np * 4), pbOff = paOff + align64(mp * k * 4);
    const mem = this.#reserve(pbOff + k * np * 4);
    if (!mem) return false;
    if (k === 0) {
      if (beta === 0) out.fill(0, 0, m * n);
      else if (beta !== 1) { for (let i = 0; i < m * n; i++) out[i] *= beta; }
      return true;
    }
    const kept = this.#cached(bKey, b, `p${transB ? "t" : "n"}${n}x${k}`, k * np * 4);
    const packB = kept === null || kept.fresh;
    const pb = kept === null ? pbOff : kept.at;
    mem.set(a.subarray(0, m * k), aOff >> 2);
    if (packB) mem.set(b.subarray(0, k * n), bOff >> 2);
    const c = cOff >> 2;
    if (beta !== 0) {
      if (np === n) mem.set(out.subarray(0, m * n), c);
      else for (let i = 0; i < m; i++) mem.set(out.subarray(i * n, i * n + n), c + i * np);
      if (beta !== 1) { for (let i = 0; i < mp * np; i++) mem[c + i] *= beta; }
    }
    // Tiles: the largest ones that still give every thread a few, when the product is worth threading.
    const flops = 2 * m * n * k;
    const parallel = this.#parallel(flops, PARALLEL_MIN_FLOPS, PARALLEL_CONTENDED_FLOPS);
    let mc = MC_MAX, nc = NC_MAX;
    if (parallel) {
      while (Math.ceil(m / mc) * Math.ceil(n / nc) < 3 * this.threads && (mc > 2 * MR || nc > 4 * NR)) {
        if (mc > 2 * MR && (mc >= nc / 2 || nc <= 4 * NR)) mc = Math.ceil(mc / 2 / MR) * MR;
        else nc = Math.ceil(nc / 2 / NR) * NR;
      }
    }
    const tilesM = Math.ceil(m / mc), tilesN = Math.ceil(n / nc);
    const setArgs = (i32: Int32Array, f32: Float32Array, at: number) => {
      i32[at + G.A] = aOff;
      i32[at + G.B] = bOff;
      i32[at + G.C] = cOff;
      i32[at + G.M] = m;
      i32[at + G.N] = n;
      i32[at + G.K] = k;
      i32[at + G.ASI] = transA ? 4 : k * 4;
      i32[at + G.ASP] = transA ? m * 4 : 4;
      i32[at + G.BSP] = transB ? 4 : n * 4;
      i32[at + G.BSJ] = transB ? k * 4 : 4;
      i32[at + G.LDC] = np * 4;
      i32[at + G.ACC] = beta !== 0 ? 1 : 0;
      f32[at + G.ALPHA] = alpha;
      i32[at + G.TILES_N] = tilesN;
      i32[at + G.MC] = mc;
      i32[at + G.NC] = nc;
      i32[at + G.KC] = KC;
      i32[at + G.MR] = MR;
      i32[at + G.NR] = NR;
      i32[at + G.PA] = paOff;
      i32[at + G.PB] = pb;
      i32[at + G.TILES_A] = tilesM;
    };
    // Pack tiles: A's row blocks, then (unless B's packed form is kept) B's column blocks.
    this.#pool.run(PACK, tilesM + (packB ? tilesN : 0), setArgs, parallel);
    this.#pool.run(GEMM, tilesM * tilesN, setArgs, parallel);
    if (np === n) out.set(mem.subarray(c, c + m * n));
    else for (let i = 0; i < m; i++) out.set(mem.subarray(c + i * np, c + i * np + n), i * n);
    return true;
  }

  /**
   * Where B's packed form (`form`: its transposition and shape) of `bytes` bytes lives in the cache region:
   * `{ at, fresh: false }` when it is there from an earlier call, `{ at, fresh: true }` when the caller must
   * write it there now (B was seen unchanged before: a weight, not an activation rewritten between calls), or
   * null (no key, first sight, or too large) when the caller prepares it in its own scratch as usual.
   */
  #cached(key: OperandKey | undefined, b: Float32Array, form: string, bytes: number) {
    if (!key || bytes > CACHE_BYTES) return null;
    let forms = this.#cache.get(key.owner);
    if (!forms) this.#cache.set(key.owner, forms = new Map());
    const id = `${form}@${b.byteOffset}`;
    const entry = forms.get(id);
    if (entry?.version !== key.version) {
      forms.set(id, { version: key.version, at: null, generation: this.#cacheGeneration });
      return null;
    }
    if (entry.at !== null && entry.generation === this.#cacheGeneration) {
      return { at: entry.at, fresh: false };
    }
    if (this.#cacheUsed + bytes > CACHE_BYTES) {
      this.#cacheGeneration++; // full: start over (every kept form is dropped)
      this.#cacheUsed = 0;
    }
    entry.at = this.#cacheBase + this.#cacheUsed;
    entry.generation = this.#cacheGeneration;
    this.#cacheUsed += align64(bytes);
    return { at: entry.at, fresh: true };
  }

  /**
   * The offset in memory of `view` (of allocation `key.owner`) in the allocation's mirror, copied there unless
   * the mirror is at `key.version` already; null when the resident region cannot hold the allocation (the
   * caller stages the view).
   */
  #mirrored(key: ResidentKey, view: Float32Array): number | null {
    const { owner, version } = key;
    let entry = this.#resident.get(owner);
    if (!entry) {
      const bytes = align64(owner.data.byteLength);
      const at = this.#residentBlock(bytes);
      if (at === null) return null;
      this.#resident.set(owner, entry = { version: version - 1, at, bytes });
    }
    if (entry.version !== version) {
      new Uint8Array(this.#f32.buffer, entry.at, owner.data.byteLength).set(
        new Uint8Array(owner.data.buffer, owner.data.byteOffset, owner.data.byteLength),
      );
      entry.version = version;
    }
    return entry.at + view.byteOffset - owner.data.byteOffset;
  }

  /**
   * For a write into allocation `owner` that took its version from `before` to `after`: if the allocation's
   * mirror was current before the write, it counts as current at `after`, and this returns the map from a view of
   * the allocation to the same floats of the mirror, for the caller to apply the same write there (a KV-cache
   * write, or a sequence moved to another slot). Otherwise null, and the mirror is copied again when next used.
   */
  followMirror(
    owner: ResidentOwner,
    before: number,
    after: number,
  ): ((view: Float32Array) => Float32Array) | null {
    const entry = this.#resident.get(owner);
    if (!entry || entry.version !== before) return null;
    entry.version = after;
    const mem = this.#f32, base = (entry.at - owner.data.byteOffset) >> 2;
    return (view) => mem.subarray(base + (view.byteOffset >> 2), base + (view.byteOffset >> 2) + view.length);
  }

  // A block of `bytes` in the resident region: a freed allocation's (best fit), else new space past the end
  // (emptying the region when it would exceed its bound); null when even an empty region is too small.
  #residentBlock(bytes: number): number | null {
    if (bytes > this.#residentBytes) return null;
    for (const [owner, e] of this.#resident) {
      if (!owner.freed) continue;
      this.#residentFree.push({ at: e.at, bytes: e.bytes });
      this.#resident.delete(owner);
    }
    let best = -1;
    this.#residentFree.forEach((b, i) => {
      if (b.bytes >= bytes && (best < 0 || b.bytes < this.#residentFree[best].bytes)) best = i;
    });
    if (best >= 0) {
      const block = this.#residentFree[best], at = block.at;
      if (block.bytes === bytes) this.#residentFree.splice(best, 1);
      else {
        block.at += bytes;
        block.bytes -= bytes;
      }
      return at;
    }
    if (this.#residentEnd + bytes - this.#residentBase > this.#residentBytes) {
      this.#resident.clear();
      this.#residentFree = [];
      this.#residentEnd = this.#residentBase;
    }
    if (!this.#reserve(this.#residentEnd + bytes + 65536)) return null;
    const at = this.#residentEnd;
    this.#residentEnd += bytes;
    this.#opsBase = Math.max(this.#opsBase, this.#residentEnd);
    return at;
  }

  /**
   * Runs elementwise kernel `kernel` (an index of `ELEMENTWISE` in `simd.ts`) over `count` floats of up to five
   * arrays, `arrays[q]` becoming its pointer `q`; the arrays flagged in `outputs` are copied back afterwards (and
   * not copied in). Returns false (doing nothing) when they do not fit in WebAssembly memory.
   */
  elementwise(kernel: number, arrays: Float32Array[], outputs: boolean[], count: number): boolean {
    const size = align64(Math.ceil(count / 4) * 16);
    const mem = this.#reserve(this.#opsBase + arrays.length * size);
    if (!mem) return false;
    const ptr = (q: number) => this.#opsBase + q * size;
    arrays.forEach((a, q) => {
      if (!outputs[q]) mem.set(a.subarray(0, count), ptr(q) >> 2);
    });
    const parallel = this.#parallel(count, EW_PARALLEL_MIN, EW_CONTENDED_MIN);
    // Whole vectors per chunk, and at least one chunk per thread when threaded.
    const chunk = parallel ? Math.min(EW_CHUNK, Math.ceil(count / this.threads / 4) * 4) : EW_CHUNK;
    this.#pool.run(ELEMENTWISE_TASK, Math.ceil(count / chunk), (i32, _f32, at) => {
      i32[at] = kernel;
      i32[at + 1] = chunk;
      i32[at + 2] = count;
      for (let q = 0; q < 5; q++) i32[at + 3 + q] = q < arrays.length ? ptr(q) : 0;
    }, parallel);
    arrays.forEach((a, q) => {
      if (outputs[q]) a.set(mem.subarray(ptr(q) >> 2, (ptr(q) >> 2) + count));
    });
    return true;
  }

  /**
   * Runs row kernel `kernel` (an index of `ROW_KERNELS` in `simd.ts`) over rows [0, rows): operand q is
   * `arrays[q]`'s first `lengths[q]` elements, staged in (unless "out") and copied back (unless "in"). Rows are
   * split across threads when `split` and the job is large enough (`work` floats); the kernels that sum over rows
   * are called unsplit, so their results do not depend on the thread count. Returns false (doing nothing) when
   * the operands do not fit in WebAssembly memory.
   */
  rows(
    kernel: number,
    operands: { array: Float32Array | Int32Array; length: number; use: RowOperand }[],
    rows: number,
    dim: number,
    aux: number,
    param: number,
    split: boolean,
    work: number,
  ): boolean {
    if (rows === 0) return true;
    const offsets: number[] = [];
    let at = this.#opsBase;
    for (const o of operands) {
      offsets.push(at);
      at += align64(o.length * 4);
    }
    const mem = this.#reserve(at);
    if (!mem) return false;
    operands.forEach((o, q) => {
      if (o.use === "out") return;
      if (o.array instanceof Float32Array) mem.set(o.array.subarray(0, o.length), offsets[q] >> 2);
      else new Int32Array(mem.buffer, offsets[q], o.length).set(o.array.subarray(0, o.length));
    });
    const parallel = split && this.#parallel(work, ROWS_PARALLEL_MIN, ROWS_CONTENDED_MIN);
    const chunk = parallel ? Math.ceil(rows / (4 * this.threads)) : rows;
    this.#pool.run(ROWS, Math.ceil(rows / chunk), (i32, f32, a) => {
      i32[a] = kernel;
      i32[a + 1] = chunk;
      i32[a + 2] = rows;
      i32[a + 3] = dim;
      i32[a + 4] = aux;
      f32[a + 5] = param;
      for (let q = 0; q < 5; q++) i32[a + 6 + q] = q < offsets.length ? offsets[q] : 0;
    }, parallel);
    operands.forEach((o, q) => {
      if (o.use === "in") return;
      (o.array as Float32Array).set(mem.subarray(offsets[q] >> 2, (offsets[q] >> 2) + o.length));
    });
    return true;
  }

  /**
   * Causal attention forward (`attention.ts` semantics): writes `out` and `lse`. Returns false (doing nothing)
   * when the operands do not fit in WebAssembly memory. The caller has checked the shapes.
   */
  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    s: AttentionShape,
  ): boolean {
    return this.#attention(ATTENTION_FORWARD, s, [q, k, v, out, lse], [false, false, false, true, true]);
  }

  /** Causal attention backward: overwrites `dq`, `dk`, `dv`. Returns false when the operands do not fit. */
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    dOut: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    s: AttentionShape,
  ): boolean {
    const arrays = [q, k, v, out, lse, dOut, dq, dk, dv];
    return this.#attention(ATTENTION_BACKWARD, s, arrays, arrays.map((_, i) => i >= 6));
  }

  /**
   * Cached attention (`attention.ts` semantics; the caller has checked lengths against the capacity): query
   * `(b, i)` attends to cache slots `0..lengths[b] + i`. Returns false (doing nothing) when the head width is
   * not a multiple of 4 or the operands do not fit in WebAssembly memory.
   */
  attentionCached(
    q: Float32Array,
    kCache: Float32Array,
    vCache: Float32Array,
    lengths: Int32Array,
    out: Float32Array,
    s: CacheShape & { heads: number; kvHeads: number; headDim: number },
    caches?: { keys: ResidentKey; values: ResidentKey },
  ): boolean {
    const { batch, queryLen: Q, capacity: cap, heads: H, kvHeads: KV, headDim: D } = s;
    if (D % 4 !== 0) return false;
    const rowsQ = batch * Q * H * D, cacheLen = batch * cap * KV * D;
    const keys = caches ? this.#mirrored(caches.keys, kCache) : null;
    const values = caches && keys !== null ? this.#mirrored(caches.values, vCache) : null;
    const staged = keys === null || values === null;
    const qOff = this.#opsBase, kOff = staged ? qOff + align64(rowsQ * 4) : keys;
    const vOff = staged ? kOff + align64(cacheLen * 4) : values;
    const lenOff = staged ? vOff + align64(cacheLen * 4) : qOff + align64(rowsQ * 4);
    const oOff = lenOff + align64(batch * 4);
    const work = oOff + align64(rowsQ * 4), workBytes = align64((2 * Q + cap + 4) * 4);
    const mem = this.#reserve(work + this.threads * workBytes);
    if (!mem) return false;
    mem.set(q.subarray(0, rowsQ), qOff >> 2);
    const width = KV * D;
    let span = 0;
    for (let b = 0; b < batch; b++) {
      // Only the slots this call reads: each sequence's first lengths[b] + queryLen.
      const from = b * cap * width, n = (lengths[b] + Q) * width;
      if (staged) {
        mem.set(kCache.subarray(from, from + n), (kOff >> 2) + from);
        mem.set(vCache.subarray(from, from + n), (vOff >> 2) + from);
      }
      span += lengths[b] + Q;
    }
    new Int32Array(mem.buffer, lenOff, batch).set(lengths.subarray(0, batch));
    const parallel = this.#parallel(span * H * D, CACHED_PARALLEL_MIN, ATTENTION_PARALLEL_MIN);
    // Sequences per task: a few tasks per thread when threaded (sequences differ in length), else one task.
    const seqs = parallel ? Math.ceil(batch / (4 * this.threads)) : batch;
    this.#pool.run(ATTENTION_CACHED, Math.ceil(batch / seqs), (i32, _f32, a) => {
      const fields: [number, number][] = [
        [AT.Q, qOff],
        [AT.K, kOff],
        [AT.V, vOff],
        [AT.O, oOff],
        [AT.LSE, lenOff],
        [AT.BATCH, batch],
        [AT.H, H],
        [AT.KV, KV],
        [AT.D, D],
        [AT.QLEN, Q],
        [AT.CAPACITY, cap],
        [AT.SEQS, seqs],
        [AT.WORK, work],
        [AT.WORK_BYTES, workBytes],
        [AT.SCRATCH_BASE, this.#scratchBase],
        [AT.SCRATCH_BYTES, SCRATCH_BYTES],
      ];
      for (const [slot, value] of fields) i32[a + slot] = value;
    }, parallel);
    out.set(mem.subarray(oOff >> 2, (oOff >> 2) + rowsQ));
    return true;
  }

  // Stages the operands (in the order of the Q..DV slots), runs one task per (sequence, head) for the forward
  // or per (sequence, key/value head) for the backward, and copies the outputs back.
  #attention(kind: number, s: AttentionShape, arrays: Float32Array[], outputs: boolean[]): boolean {
    const { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D } = s;
    const rowsQ = batch * T * H * D, rowsKV = batch * T * KV * D, lseLen = batch * H * T;
    const sizes = [rowsQ, rowsKV, rowsKV, rowsQ, lseLen, rowsQ, rowsQ, rowsKV, rowsKV].slice(
      0,
      arrays.length,
    );
    const offsets: number[] = [];
    let at = this.#opsBase;
    for (const n of sizes) {
      offsets.push(at);
      at += align64(n * 4);
    }
    const dp = Math.ceil(D / NR) * NR, tp = (Math.ceil(T / MR) + 1) * MR, t8 = Math.ceil(T / NR) * NR;
    const qbp = Math.ceil(QB / MR) * MR;
    // Row kernels for small heads; sequences longer than one reduction block take the blocked path (which splits
    // its sums there), so the two agree bit for bit.
    const rows = this.#rowKernels && D % 4 === 0 && D <= ROWS_MAX_HEAD_DIM && T <= KC;
    // Row kernels: the forward's statistics, its T stored score rows and the transposed keys, or the backward's
    // two score rows, the block's key and value gradient sums and the transposed keys and values.
    const workBytes = rows
      ? align64((2 * T + 24 + Math.max(2 * T * D, T * rowsStride(T) + 4) + 2 * rowsStride(T) * D) * 4)
      : align64((8 * tp * dp + 2 * qbp * t8 + 3 * 64) * 4);
    const work = at;
    const mem = this.#reserve(work + this.threads * workBytes);
    if (!mem) return false;
    arrays.forEach((a, i) => {
      if (!outputs[i]) mem.set(a.subarray(0, sizes[i]), offsets[i] >> 2);
      // The row kernels add each block's key and value gradients to these.
      else if (rows && i >= 7) mem.fill(0, offsets[i] >> 2, (offsets[i] >> 2) + sizes[i]);
    });
    if (rows) kind = kind === ATTENTION_FORWARD ? ATTENTION_ROWS_FORWARD : ATTENTION_ROWS_BACKWARD;
    const tiles = batch * (kind === ATTENTION_FORWARD || kind === ATTENTION_ROWS_FORWARD ? H : KV);
    const parallel = this.threads > 1 && batch * H * T * T * D >= ATTENTION_PARALLEL_MIN;
    this.#pool.run(kind, tiles, (i32, _f32, a) => {
      for (let i = 0; i < 9; i++) i32[a + i] = i < offsets.length ? offsets[i] : 0;
      const fields: [number, number][] = [
        [AT.BATCH, batch],
        [AT.T, T],
        [AT.H, H],
        [AT.KV, KV],
        [AT.D, D],
        [AT.DP, dp],
        [AT.TP, tp],
        [AT.T8, t8],
        [AT.WORK, work],
        [AT.WORK_BYTES, workBytes],
        [AT.SCRATCH_BASE, this.#scratchBase],
        [AT.SCRATCH_BYTES, SCRATCH_BYTES],
        [AT.MC, MC_MAX],
        [AT.NC, NC_MAX],
        [AT.KC, KC],
        [AT.MR, MR],
        [AT.NR, NR],
      ];
      for (const [slot, value] of fields) i32[a + slot] = value;
    }, parallel);
    arrays.forEach((a, i) => {
      if (outputs[i]) a.set(mem.subarray(offsets[i] >> 2, (offsets[i] >> 2) + sizes[i]));
    });
    return true;
  }

  // Whether a job of `work` is split over threads: from `min` on, or from `contended` on while a recent job
  // waited on a descheduled worker (oversubscribed cores make small parallel jobs slower than serial ones).
  #parallel(work: number, min: number, contended: number): boolean {
    return this.threads > 1 && work >= (this.#pool.contended ? contended : min);
  }

  /** Stops the worker threads. */
  destroy(): void {
    this.#pool.destroy();
  }
}
