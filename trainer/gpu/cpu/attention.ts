/**
 * CPU reference for causal grouped-query attention: the training forward (saving each query's log-sum-exp),
 * its backward (recomputing probabilities from the saved log-sum-exp, as FlashAttention does), the KV-cache
 * write and the cached attention used for incremental decoding. Layouts are documented in `../backend.ts`.
 * The training kernels gather one head at a time into contiguous arrays and work on blocks of query rows with
 * the matmul kernels, so memory stays `O(QUERY_BLOCK * seqLen)` per call.
 *
 * @module
 */

import type { AttentionShape, CacheShape, CpuEngine } from "./engine.ts";
import { matmulF32 } from "./matmul.ts";

function checkHeads(heads: number, kvHeads: number): number {
  if (heads % kvHeads !== 0) {
    throw new RangeError(`attention: heads (${heads}) must be a multiple of kvHeads (${kvHeads})`);
  }
  return heads / kvHeads;
}

/** Query rows processed per block (bounds the score scratch to `QUERY_BLOCK * seqLen`). */
export const QUERY_BLOCK = 64;

const NT = { transA: false, transB: true, alpha: 1, beta: 0 };
const NN = { transA: false, transB: false, alpha: 1, beta: 0 };
const TN_ACC = { transA: true, transB: false, alpha: 1, beta: 1 };

// Copies head `h` (of `heads`) of rows [0, T) of sequence b into a contiguous [T, D] array, or back.
function gatherHead(
  src: Float32Array,
  dst: Float32Array,
  b: number,
  T: number,
  heads: number,
  h: number,
  D: number,
) {
  for (let t = 0; t < T; t++) {
    const o = ((b * T + t) * heads + h) * D;
    dst.set(src.subarray(o, o + D), t * D);
  }
}

function scatterHead(
  src: Float32Array,
  dst: Float32Array,
  b: number,
  T: number,
  heads: number,
  h: number,
  D: number,
) {
  for (let t = 0; t < T; t++) dst.set(src.subarray(t * D, t * D + D), ((b * T + t) * heads + h) * D);
}

// Scaled causal scores of query rows [t0, t0+nq) against keys [0, t0+nq), turned into probabilities in place
// (row-wise softmax; masked entries 0). With `lseIn`, probabilities come from the saved log-sum-exp; otherwise the
// log-sum-exp of each row is written to `lseOut`.
function blockProbs(
  qh: Float32Array,
  kh: Float32Array,
  p: Float32Array,
  t0: number,
  nq: number,
  D: number,
  scale: number,
  lse: Float32Array,
  lseAt: number,
  saved: boolean,
  engine?: CpuEngine | null,
): void {
  const nk = t0 + nq;
  matmulF32(qh.subarray(t0 * D, nk * D), kh, p, { m: nq, n: nk, k: D, ...NT }, engine);
  for (let i = 0; i < nq; i++) {
    const row = i * nk, last = t0 + i;
    let l: number;
    if (saved) l = lse[lseAt + t0 + i];
    else {
      let max = -Infinity;
      for (let u = 0; u <= last; u++) max = Math.max(max, p[row + u] * scale);
      let sum = 0;
      for (let u = 0; u <= last; u++) sum += Math.exp(p[row + u] * scale - max);
      l = max + Math.log(sum);
      lse[lseAt + t0 + i] = l;
    }
    for (let u = 0; u <= last; u++) p[row + u] = Math.exp(p[row + u] * scale - l);
    for (let u = last + 1; u < nk; u++) p[row + u] = 0;
  }
}

/** Causal attention forward; writes `out` and `lse` (`[batch, heads, seqLen]`). Blocked over query rows. */
export function attentionForward(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  lse: Float32Array,
  s: AttentionShape,
  engine?: CpuEngine | null,
): void {
  const { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D } = s;
  const group = checkHeads(H, KV);
  const scale = 1 / Math.sqrt(D);
  const qh = new Float32Array(T * D), kh = new Float32Array(T * D), vh = new Float32Array(T * D);
  const oh = new Float32Array(T * D), p = new Float32Array(Math.min(QUERY_BLOCK, T) * T);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < KV; g++) {
      gatherHead(k, kh, b, T, KV, g, D);
      gatherHead(v, vh, b, T, KV, g, D);
      for (let h = g * group; h < (g + 1) * group; h++) {
        gatherHead(q, qh, b, T, H, h, D);
        for (let t0 = 0; t0 < T; t0 += QUERY_BLOCK) {
          const nq = Math.min(QUERY_BLOCK, T - t0), nk = t0 + nq;
          blockProbs(qh, kh, p, t0, nq, D, scale, lse, (b * H + h) * T, false, engine);
          matmulF32(p, vh, oh.subarray(t0 * D, nk * D), { m: nq, n: D, k: nk, ...NN }, engine);
        }
        scatterHead(oh, out, b, T, H, h, D);
      }
    }
  }
}

/**
 * Causal attention backward: `P = exp(S - lse)`, `dV = P^T dO`, `dP = dO V^T`, `dS = P (dP - rowsum(dO * O))`,
 * `dQ = scale dS K`, `dK = scale dS^T Q`. Overwrites `dq`, `dk`, `dv`. Blocked over query rows.
 */
export function attentionBackward(
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
  engine?: CpuEngine | null,
): void {
  const { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D } = s;
  const group = checkHeads(H, KV);
  const scale = 1 / Math.sqrt(D);
  const n = T * D;
  const qh = new Float32Array(n),
    kh = new Float32Array(n),
    vh = new Float32Array(n),
    oh = new Float32Array(n);
  const doh = new Float32Array(n),
    dqh = new Float32Array(n),
    dkh = new Float32Array(n),
    dvh = new Float32Array(n);
  const rows = Math.min(QUERY_BLOCK, T);
  const p = new Float32Array(rows * T), dp = new Float32Array(rows * T);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < KV; g++) {
      gatherHead(k, kh, b, T, KV, g, D);
      gatherHead(v, vh, b, T, KV, g, D);
      dkh.fill(0);
      dvh.fill(0);
      for (let h = g * group; h < (g + 1) * group; h++) {
        gatherHead(q, qh, b, T, H, h, D);
        gatherHead(out, oh, b, T, H, h, D);
        gatherHead(dOut, doh, b, T, H, h, D);
        for (let t0 = 0; t0 < T; t0 += QUERY_BLOCK) {
          const nq = Math.min(QUERY_BLOCK, T - t0), nk = t0 + nq;
          const qBlk = qh.subarray(t0 * D, nk * D), doBlk = doh.subarray(t0 * D, nk * D);
          blockProbs(qh, kh, p, t0, nq, D, scale, lse, (b * H + h) * T, true, engine);
          matmulF32(doBlk, vh, dp, { m: nq, n: nk, k: D, ...NT }, engine);
          for (let i = 0; i < nq; i++) {
            let rowDot = 0;
            for (let d = 0; d < D; d++) rowDot += doBlk[i * D + d] * oh[(t0 + i) * D + d];
            for (let u = 0; u < nk; u++) dp[i * nk + u] = p[i * nk + u] * (dp[i * nk + u] - rowDot) * scale;
          }
          matmulF32(dp, kh, dqh.subarray(t0 * D, nk * D), { m: nq, n: D, k: nk, ...NN }, engine);
          matmulF32(dp, qBlk, dkh, { m: nk, n: D, k: nq, ...TN_ACC }, engine);
          matmulF32(p, doBlk, dvh, { m: nk, n: D, k: nq, ...TN_ACC }, engine);
        }
        scatterHead(dqh, dq, b, T, H, h, D);
      }
      scatterHead(dkh, dk, b, T, KV, g, D);
      scatterHead(dvh, dv, b, T, KV, g, D);
    }
  }
}

/** Row `(b, i)` of `src` goes to slot `lengths[b] + i` of sequence `b` in `cache`. */
export function kvCacheWrite(
  src: Float32Array,
  cache: Float32Array,
  lengths: Int32Array,
  width: number,
  s: CacheShape,
): void {
  const { batch, queryLen, capacity } = s;
  for (let b = 0; b < batch; b++) {
    const len = lengths[b];
    if (len < 0 || len + queryLen > capacity) {
      throw new RangeError(
        `kvCacheWrite: sequence ${b} has ${len} cached + ${queryLen} new > capacity ${capacity}`,
      );
    }
    // One element loop per sequence: a subarray and a set per row cost more than copying its few floats.
    const from = b * queryLen * width, to = (b * capacity + len) * width;
    for (let i = 0; i < queryLen * width; i++) cache[to + i] = src[from + i];
  }
}

/** Cached attention: query `(b, i)` attends to slots `0..lengths[b] + i` of sequence `b`. */
export function attentionCached(
  q: Float32Array,
  kCache: Float32Array,
  vCache: Float32Array,
  lengths: Int32Array,
  out: Float32Array,
  s: CacheShape & { heads: number; kvHeads: number; headDim: number },
): void {
  const { batch, queryLen, capacity, heads: H, kvHeads: KV, headDim: D } = s;
  const group = checkHeads(H, KV);
  const scale = 1 / Math.sqrt(D);
  const kStride = KV * D;
  const scores = new Float32Array(capacity);
  for (let b = 0; b < batch; b++) {
    const len = lengths[b];
    if (len < 0 || len + queryLen > capacity) {
      throw new RangeError(
        `attentionCached: sequence ${b} length ${len} + ${queryLen} > capacity ${capacity}`,
      );
    }
    for (let i = 0; i < queryLen; i++) {
      const last = len + i;
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / group);
        const qo = (b * queryLen + i) * H * D + h * D;
        let max = -Infinity;
        for (let u = 0; u <= last; u++) {
          const ko = (b * capacity + u) * kStride + kvh * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d] * kCache[ko + d];
          const sc = dot * scale;
          scores[u] = sc;
          if (sc > max) max = sc;
        }
        let sum = 0;
        for (let u = 0; u <= last; u++) {
          const e = Math.exp(scores[u] - max);
          scores[u] = e;
          sum += e;
        }
        for (let d = 0; d < D; d++) out[qo + d] = 0;
        for (let u = 0; u <= last; u++) {
          const p = scores[u] / sum;
          const vo = (b * capacity + u) * kStride + kvh * D;
          for (let d = 0; d < D; d++) out[qo + d] += p * vCache[vo + d];
        }
      }
    }
  }
}
