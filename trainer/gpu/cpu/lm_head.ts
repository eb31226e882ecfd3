/**
 * CPU fused LM head: per-row log-probability of a target token and the softmax entropy, computed chunk by chunk
 * of rows so that at most `[chunk, vocab]` logits exist at once; the backward recomputes each chunk's logits
 * from the saved log-sum-exp.
 *
 * @module
 */

import type { CpuEngine } from "./engine.ts";
import { matmulF32 } from "./matmul.ts";
import { ROW_KERNELS } from "./simd.ts";

/** Logits held per chunk of rows (256 KiB: a chunk stays in cache between its products and its softmax). */
const CHUNK_LOGITS = 1 << 16;

/**
 * Rows processed per chunk: as many as `CHUNK_LOGITS` logits hold, and at least 16. Small vocabularies get large
 * chunks, so that the products are not split into thousands of tiny calls.
 */
export function chunkRows(vocab: number): number {
  return Math.max(16, Math.floor(CHUNK_LOGITS / vocab));
}

/** Shape of an LM-head call. */
export interface LmHeadShape {
  rows: number;
  dim: number;
  vocab: number;
}

function checkTarget(t: number, row: number, vocab: number): void {
  if (t < 0 || t >= vocab) throw new RangeError(`lmHead: target ${t} at row ${row} outside [0, ${vocab})`);
}

/** Writes `logprobs`, `entropies` and `lse` per row; one pass over each row's logits (online softmax). */
export function lmHeadForward(
  hidden: Float32Array,
  weight: Float32Array,
  targets: Int32Array,
  logprobs: Float32Array,
  entropies: Float32Array,
  lse: Float32Array,
  s: LmHeadShape,
  engine?: CpuEngine | null,
): void {
  const { rows, dim, vocab } = s, chunk = chunkRows(vocab);
  const logits = new Float32Array(Math.min(chunk, rows) * vocab);
  const stats = new Float32Array(3 * Math.min(chunk, rows));
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    matmulF32(hidden.subarray(r0 * dim, (r0 + n) * dim), weight, logits, {
      m: n,
      n: vocab,
      k: dim,
      transA: false,
      transB: true,
      alpha: 1,
      beta: 0,
    }, engine);
    // The row sums on the SIMD kernel (f32, four lanes) where it runs; the logarithm and the target's logit here.
    const simd = engine && vocab % 4 === 0 && engine.rows(
      ROW_KERNELS.softmaxStats,
      [
        { array: logits, length: n * vocab, use: "in" },
        { array: stats, length: 3 * n, use: "out" },
      ],
      n,
      vocab,
      0,
      0,
      true,
      n * vocab,
    );
    if (simd) {
      for (let i = 0; i < n; i++) {
        const r = r0 + i, target = targets[r];
        checkTarget(target, r, vocab);
        const sum = stats[3 * i + 1], l = stats[3 * i] + Math.log(sum);
        lse[r] = l;
        logprobs[r] = logits[i * vocab + target] - l;
        entropies[r] = l - stats[3 * i + 2] / sum;
      }
      continue;
    }
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      const target = targets[r];
      checkTarget(target, r, vocab);
      const o = i * vocab;
      // Online: m = running max, sum = sum e^(z-m), zsum = sum e^(z-m) z.
      let m = -Infinity, sum = 0, zsum = 0;
      for (let v = 0; v < vocab; v++) {
        const z = logits[o + v];
        if (z > m) {
          const c = Math.exp(m - z);
          sum = sum * c + 1;
          zsum = zsum * c + z;
          m = z;
        } else {
          const e = Math.exp(z - m);
          sum += e;
          zsum += e * z;
        }
      }
      const l = m + Math.log(sum);
      lse[r] = l;
      logprobs[r] = logits[o + target] - l;
      entropies[r] = l - zsum / sum;
    }
  }
}

/** Overwrites `dHidden`, accumulates `dWeight`, for `L = sum_r coeffs[r] * logprobs[r]`. */
export function lmHeadBackward(
  hidden: Float32Array,
  weight: Float32Array,
  targets: Int32Array,
  lse: Float32Array,
  coeffs: Float32Array,
  dHidden: Float32Array,
  dWeight: Float32Array,
  s: LmHeadShape,
  engine?: CpuEngine | null,
): void {
  const { rows, dim, vocab } = s, chunk = chunkRows(vocab);
  const logits = new Float32Array(Math.min(chunk, rows) * vocab);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const h = hidden.subarray(r0 * dim, (r0 + n) * dim);
    matmulF32(
      h,
      weight,
      logits,
      { m: n, n: vocab, k: dim, transA: false, transB: true, alpha: 1, beta: 0 },
      engine,
    );
    const simd = engine && vocab % 4 === 0 && engine.rows(
      ROW_KERNELS.softmaxGrad,
      [
        { array: logits, length: n * vocab, use: "inout" },
        { array: lse.subarray(r0, r0 + n), length: n, use: "in" },
        { array: coeffs.subarray(r0, r0 + n), length: n, use: "in" },
      ],
      n,
      vocab,
      0,
      0,
      true,
      n * vocab,
    );
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      const g = coeffs[r];
      const l = lse[r];
      const o = i * vocab;
      if (!simd) { for (let v = 0; v < vocab; v++) logits[o + v] = -g * Math.exp(logits[o + v] - l); }
      const target = targets[r];
      checkTarget(target, r, vocab);
      logits[o + target] += g;
    }
    const dz = logits.subarray(0, n * vocab);
    matmulF32(dz, weight, dHidden.subarray(r0 * dim, (r0 + n) * dim), {
      m: n,
      n: dim,
      k: vocab,
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0,
    }, engine);
    matmulF32(
      dz,
      h,
      dWeight,
      { m: vocab, n: dim, k: n, transA: true, transB: false, alpha: 1, beta: 1 },
      engine,
    );
  }
}
