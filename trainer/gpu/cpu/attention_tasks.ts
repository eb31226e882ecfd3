/**
 * Causal attention as thread-pool tasks over the engine's memory: the forward runs one task per (sequence,
 * head), the backward one per (sequence, key/value head) so that the group's key and value gradients are summed
 * by one thread. Each task follows `attention.ts` (gather a head into contiguous rows, blocks of query rows,
 * probabilities from the log-sum-exp), with its products on the SIMD micro-kernel through {@linkcode gemmSerial}.
 *
 * Tasks and helpers run on worker threads from their source text, so they use nothing from outside but their
 * arguments and the helpers listed in {@linkcode ATTENTION_HELPERS}. Every row buffer of a task has a row stride
 * of `dp` floats (headDim rounded up to the micro-tile width) and room for rows up to a multiple of the
 * micro-tile height, since the micro-kernel writes whole tiles.
 *
 * @module
 */

import type { Task } from "./pool.ts";

/** Query rows per block (as in `attention.ts`). */
export const QB = 64;

/** Argument slots of an attention job (Int32 offsets from the job's first slot). */
export const AT = {
  Q: 0,
  K: 1,
  V: 2,
  O: 3,
  LSE: 4,
  DO: 5,
  DQ: 6,
  DK: 7,
  DV: 8,
  BATCH: 9,
  T: 10,
  H: 11,
  KV: 12,
  D: 13,
  DP: 14,
  TP: 15,
  T8: 16,
  WORK: 18,
  WORK_BYTES: 19,
  SCRATCH_BASE: 20,
  SCRATCH_BYTES: 21,
  MC: 22,
  NC: 23,
  KC: 24,
  MR: 25,
  NR: 26,
  QLEN: 27,
  CAPACITY: 28,
  SEQS: 29,
} as const;

/**
 * `C (=|+=) alpha * op(A) @ op(B)` on the calling thread, blocked as the engine's gemm job: A(i, p) at
 * `a + i*asi + p*asp`, B(p, j) at `b + p*bsp + j*bsj` (bytes), C rows `ldc` bytes apart, with room for whole
 * micro-tiles. `g` holds the blocking: [MC, NC, KC, MR, NR].
 */
export function gemmSerial(
  // deno-lint-ignore no-explicit-any
  ex: any,
  a: number,
  asi: number,
  asp: number,
  b: number,
  bsp: number,
  bsj: number,
  c: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  accumulate: number,
  scratch: number,
  g: number[],
): void {
  const [MC, NC, KC, MR, NR] = g;
  const apack = scratch, bpack = scratch + MC * KC * 4;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const ncv = Math.min(NC, n - j0), ncp = Math.ceil(ncv / NR) * NR;
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      ex.pack_b(b + p0 * bsp + j0 * bsj, bsp, bsj, bpack, kc, ncv, ncp);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mcv = Math.min(MC, m - i0), mcp = Math.ceil(mcv / MR) * MR;
        ex.pack_a(a + i0 * asi + p0 * asp, asi, asp, apack, mcv, mcp, kc);
        ex.macro(apack, bpack, c + i0 * ldc + j0 * 4, ldc, mcp, ncp, kc, alpha, p0 > 0 || accumulate ? 1 : 0);
      }
    }
  }
}

/** Copies head `h` of `heads` of rows [0, T) of sequence `b` from `src` (row width heads*D) to `dst` (stride dp). */
export function gatherHead(
  mem: Float32Array,
  src: number,
  dst: number,
  b: number,
  T: number,
  heads: number,
  h: number,
  D: number,
  dp: number,
): void {
  for (let t = 0; t < T; t++) {
    const o = src + ((b * T + t) * heads + h) * D;
    mem.copyWithin(dst + t * dp, o, o + D);
  }
}

/** The inverse of {@linkcode gatherHead}. */
export function scatterHead(
  mem: Float32Array,
  src: number,
  dst: number,
  b: number,
  T: number,
  heads: number,
  h: number,
  D: number,
  dp: number,
): void {
  for (let t = 0; t < T; t++) {
    mem.copyWithin(dst + ((b * T + t) * heads + h) * D, src + t * dp, src + t * dp + D);
  }
}

/**
 * Scaled causal scores of query rows [t0, t0+nq) of `qh` against keys [0, t0+nq) of `kh` into `p` (row stride
 * t8), turned into probabilities in place; with `saved` from the log-sum-exp at `lse`, else writing it there.
 * `aux` is room for 3 x 64 floats (row maxima, sums, subtrahends). Offsets in floats (the kernels take bytes).
 */
export function blockProbs(
  // deno-lint-ignore no-explicit-any
  ex: any,
  mem: Float32Array,
  qh: number,
  kh: number,
  p: number,
  t0: number,
  nq: number,
  dp: number,
  t8: number,
  D: number,
  scale: number,
  lse: number,
  saved: boolean,
  scratch: number,
  g: number[],
  aux: number,
): void {
  const nk = t0 + nq, max = aux, sums = aux + 64, sub = aux + 128;
  gemmSerial(
    ex,
    (qh + t0 * dp) * 4,
    dp * 4,
    4,
    kh * 4,
    4,
    dp * 4,
    p * 4,
    t8 * 4,
    nq,
    nk,
    D,
    1,
    0,
    scratch,
    g,
  );
  // Row i has t0 + i + 1 causal entries; -Infinity up to a multiple of 4 lets the kernels read whole vectors.
  for (let i = 0; i < nq; i++) {
    const row = p + i * t8, count = t0 + i + 1;
    for (let u = count; u < ((count + 3) & ~3); u++) mem[row + u] = -Infinity;
  }
  if (saved) { for (let i = 0; i < nq; i++) mem[sub + i] = mem[lse + t0 + i]; }
  else {
    ex.rows_max(p * 4, t8 * 4, nq, t0 + 1, scale, max * 4);
    ex.rows_exp(p * 4, t8 * 4, nq, t0 + 1, scale, max * 4, sums * 4, 0);
    for (let i = 0; i < nq; i++) {
      const l = mem[max + i] + Math.log(mem[sums + i]);
      mem[lse + t0 + i] = l;
      mem[sub + i] = l;
    }
  }
  ex.rows_exp(p * 4, t8 * 4, nq, t0 + 1, scale, sub * 4, sums * 4, 1);
  for (let i = 0; i < nq; i++) mem.fill(0, p + i * t8 + t0 + i + 1, p + i * t8 + nk);
}

/**
 * A job's arguments (slots of {@linkcode AT}), a view of the whole memory, the scale `1/sqrt(D)` (in double precision, as `attention.ts`),
 * this thread's work area (float offset, found from its scratch offset), and the rows a probability block has
 * room for (64 query rows rounded up to the micro-tile height).
 */
// deno-lint-ignore no-explicit-any
export function jobArgs(ex: any, i32: Int32Array, at: number, scratch: number) {
  const arg = (k: number) => i32[at + k];
  const thread = (scratch - arg(20)) / arg(21);
  const g = [arg(22), arg(23), arg(24), arg(25), arg(26)];
  // A worker's view of a shared memory that another thread grew can lag behind; grow(0) brings it up to date.
  const end = arg(18) + (thread + 1) * arg(19);
  let mem = new Float32Array(ex.mem.buffer);
  if (mem.byteLength < end) {
    ex.mem.grow(0);
    mem = new Float32Array(ex.mem.buffer);
    if (mem.byteLength < end) throw new Error("attention task: memory view shorter than the job");
  }
  return {
    mem,
    arg,
    scale: 1 / Math.sqrt(arg(13)),
    work: (arg(18) + thread * arg(19)) >> 2,
    g,
    qbp: Math.ceil(64 / g[3]) * g[3],
  };
}

/** Helpers the attention tasks call (sent to workers with them). */
export const ATTENTION_HELPERS = [gemmSerial, gatherHead, scatterHead, blockProbs, jobArgs, rowsStride];

/** Forward of one (sequence, head): writes its rows of O and LSE. Slots as in {@linkcode AT}. */
export const attentionForwardTile: Task = (ex, i32, _f32, at, tile, scratch) => {
  const { mem, arg, scale, work, g, qbp } = jobArgs(ex, i32, at, scratch);
  const [Q, K, V, O, LSE] = [arg(0) >> 2, arg(1) >> 2, arg(2) >> 2, arg(3) >> 2, arg(4) >> 2];
  const [T, H, KV, D, dp, tp, t8] = [arg(10), arg(11), arg(12), arg(13), arg(14), arg(15), arg(16)];
  const b = Math.floor(tile / H), h = tile - b * H, kvh = Math.floor(h / (H / KV));
  const qh = work, kh = qh + tp * dp, vh = kh + tp * dp, oh = vh + tp * dp, p = oh + tp * dp;
  gatherHead(mem, K, kh, b, T, KV, kvh, D, dp);
  gatherHead(mem, V, vh, b, T, KV, kvh, D, dp);
  gatherHead(mem, Q, qh, b, T, H, h, D, dp);
  const lse = LSE + (b * H + h) * T;
  for (let t0 = 0; t0 < T; t0 += 64) { // QB query rows per block
    const nq = Math.min(64, T - t0), nk = t0 + nq;
    blockProbs(ex, mem, qh, kh, p, t0, nq, dp, t8, D, scale, lse, false, scratch, g, p + qbp * t8);
    gemmSerial(
      ex,
      p * 4,
      t8 * 4,
      4,
      vh * 4,
      dp * 4,
      4,
      (oh + t0 * dp) * 4,
      dp * 4,
      nq,
      D,
      nk,
      1,
      0,
      scratch,
      g,
    );
  }
  scatterHead(mem, oh, O, b, T, H, h, D, dp);
};

/**
 * Backward of one (sequence, key/value head) over the heads of its group: `P = exp(S - lse)`, `dV += P^T dO`,
 * `dP = dO V^T`, `dS = P (dP - rowsum(dO * O))`, `dQ = scale dS K`, `dK += scale dS^T Q`.
 */
export const attentionBackwardTile: Task = (ex, i32, _f32, at, tile, scratch) => {
  const { mem, arg, scale, work, g, qbp } = jobArgs(ex, i32, at, scratch);
  const [Q, K, V, O, LSE, DO, DQ, DK, DV] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => arg(k) >> 2);
  const [T, H, KV, D, dp, tp, t8] = [arg(10), arg(11), arg(12), arg(13), arg(14), arg(15), arg(16)];
  const b = Math.floor(tile / KV), kvh = tile - b * KV, group = H / KV;
  const n = tp * dp;
  const kh = work,
    vh = kh + n,
    qh = vh + n,
    oh = qh + n,
    doh = oh + n,
    dqh = doh + n,
    dkh = dqh + n,
    dvh = dkh + n;
  const p = dvh + n, dpr = p + qbp * t8;
  gatherHead(mem, K, kh, b, T, KV, kvh, D, dp);
  gatherHead(mem, V, vh, b, T, KV, kvh, D, dp);
  mem.fill(0, dkh, dkh + n);
  mem.fill(0, dvh, dvh + n);
  for (let h = kvh * group; h < (kvh + 1) * group; h++) {
    gatherHead(mem, Q, qh, b, T, H, h, D, dp);
    gatherHead(mem, O, oh, b, T, H, h, D, dp);
    gatherHead(mem, DO, doh, b, T, H, h, D, dp);
    const lse = LSE + (b * H + h) * T;
    for (let t0 = 0; t0 < T; t0 += 64) {
      const nq = Math.min(64, T - t0), nk = t0 + nq;
      blockProbs(ex, mem, qh, kh, p, t0, nq, dp, t8, D, scale, lse, true, scratch, g, dpr + qbp * t8);
      gemmSerial(
        ex,
        (doh + t0 * dp) * 4,
        dp * 4,
        4,
        vh * 4,
        4,
        dp * 4,
        dpr * 4,
        t8 * 4,
        nq,
        nk,
        D,
        1,
        0,
        scratch,
        g,
      );
      for (let i = 0; i < nq; i++) {
        const o = (t0 + i) * dp;
        let rowDot = 0;
        for (let d = 0; d < D; d++) rowDot += mem[doh + o + d] * mem[oh + o + d];
        const pr = p + i * t8, dr = dpr + i * t8;
        for (let u = 0; u < nk; u++) mem[dr + u] = mem[pr + u] * (mem[dr + u] - rowDot) * scale;
      }
      const [q4, do4, ld] = [(qh + t0 * dp) * 4, (doh + t0 * dp) * 4, dp * 4];
      gemmSerial(ex, dpr * 4, t8 * 4, 4, kh * 4, ld, 4, (dqh + t0 * dp) * 4, ld, nq, D, nk, 1, 0, scratch, g);
      gemmSerial(ex, dpr * 4, 4, t8 * 4, q4, ld, 4, dkh * 4, ld, nk, D, nq, 1, 1, scratch, g);
      gemmSerial(ex, p * 4, 4, t8 * 4, do4, ld, 4, dvh * 4, ld, nk, D, nq, 1, 1, scratch, g);
    }
    scatterHead(mem, dqh, DQ, b, T, H, h, D, dp);
  }
  scatterHead(mem, dkh, DK, b, T, KV, kvh, D, dp);
  scatterHead(mem, dvh, DV, b, T, KV, kvh, D, dp);
};

// Row kernels (simd.ts): every loop of a head runs inside WebAssembly on the operands in place, with no
// gather, packing or per-block calls (for the short rows of small heads those cost more than the products).
// The training kernels give the blocked tasks' results bit for bit (see simd.ts). Slots as in AT; the work area
// holds the per-row statistics and score rows (forward), or two score rows and the block's dK and dV sums.

/**
 * Floats per stored score row of the row kernels' forward over `T` keys (room for T rounded up to 4); also the keys
 * `transpose_keys` lays out for `T` keys, per float of the head width.
 */
export function rowsStride(T: number): number {
  return Math.ceil(T / 4) * 4;
}

/** Forward of one (sequence, head) on the row kernels: writes its rows of O and LSE. */
export const attentionRowsForwardTile: Task = (ex, i32, _f32, at, tile, scratch) => {
  const { mem, arg, scale, work } = jobArgs(ex, i32, at, scratch);
  const [T, H, KV, D] = [arg(10), arg(11), arg(12), arg(13)];
  const b = Math.floor(tile / H), h = tile - b * H, kvh = Math.floor(h / (H / KV));
  const qo = (b * T * H + h) * D * 4, ko = (b * T * KV + kvh) * D * 4;
  const [q, k, v, o] = [arg(0) + qo, arg(1) + ko, arg(2) + ko, arg(3) + qo];
  // The score rows (one per query row, padded to 4) computed by the statistics pass are reused by the output pass.
  const stat = work, scores = work + 2 * T + 4, sstride = rowsStride(T), kt = scores + T * sstride;
  const lse = (arg(4) >> 2) + (b * H + h) * T;
  ex.transpose_keys(k, KV * D * 4, T, D, kt * 4);
  ex.attn_stats(q, kt * 4, stat * 4, scores * 4, T, H * D * 4, D, scale, sstride * 4);
  for (let t = 0; t < T; t++) mem[lse + t] = mem[stat + 2 * t] + Math.log(mem[stat + 2 * t + 1]);
  ex.attn_out(v, o, lse * 4, scores * 4, stat * 4, T, H * D * 4, KV * D * 4, D, scale, sstride * 4);
};

/** Backward of one (sequence, key/value head) on the row kernels, over the heads of its group. */
export const attentionRowsBackwardTile: Task = (ex, i32, _f32, at, tile, scratch) => {
  const { arg, scale, work } = jobArgs(ex, i32, at, scratch);
  const [T, H, KV, D] = [arg(10), arg(11), arg(12), arg(13)];
  const b = Math.floor(tile / KV), kvh = tile - b * KV, group = H / KV;
  const ko = (b * T * KV + kvh) * D * 4, row = (T + 8) * 4;
  const p = work * 4, dp = p + row, kb = dp + row, vb = kb + T * D * 4;
  // The group's keys and values transposed once for the dot products of all its heads.
  const kt = vb + T * D * 4, vt = kt + rowsStride(T) * D * 4;
  ex.transpose_keys(arg(1) + ko, KV * D * 4, T, D, kt);
  ex.transpose_keys(arg(2) + ko, KV * D * 4, T, D, vt);
  for (let h = kvh * group; h < (kvh + 1) * group; h++) {
    const qo = (b * T * H + h) * D * 4, lse = arg(4) + (b * H + h) * T * 4;
    for (let t0 = 0; t0 < T; t0 += 64) { // the blocked path's query blocks (QB)
      ex.attn_back_block(
        arg(0) + qo,
        arg(1) + ko,
        vt,
        arg(3) + qo,
        lse,
        arg(5) + qo,
        arg(6) + qo,
        arg(7) + ko,
        arg(8) + ko,
        p,
        dp,
        kb,
        vb,
        t0,
        Math.min(64, T - t0),
        H * D * 4,
        KV * D * 4,
        D,
        scale,
        scale,
        kt,
      );
    }
  }
};

/**
 * Cached attention of sequences `[tile * SEQS, +SEQS)`, every head, on the row kernel (`attn_cached`). `LSE`
 * holds the i32 lengths.
 */
export const attentionRowsCachedTile: Task = (ex, i32, _f32, at, tile, scratch) => {
  const { arg, scale, work } = jobArgs(ex, i32, at, scratch);
  const [H, KV, D, Q, cap, seqs] = [arg(11), arg(12), arg(13), arg(27), arg(28), arg(29)];
  const b0 = tile * seqs, b1 = Math.min(arg(9), b0 + seqs);
  ex.attn_cached(
    arg(0),
    arg(1),
    arg(2),
    arg(3),
    arg(4),
    work * 4,
    (work + 2 * Q) * 4,
    b0,
    b1,
    Q,
    KV,
    H / KV,
    cap,
    D,
    scale,
  );
};
