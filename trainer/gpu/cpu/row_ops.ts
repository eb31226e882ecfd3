/**
 * The CPU backend's row-wise operations (RMSNorm forward and backward, bias add and gradient, rotary embedding)
 * on the engine's WebAssembly SIMD row kernels (`ROW_KERNELS` in `simd.ts`), split across threads by rows where
 * the rows are independent. Each returns false when the engine cannot run it (a row width that is not a multiple
 * of the vector width, a position outside the rotary table, or operands beyond WebAssembly memory); the backend
 * then runs the TypeScript reference of `kernels.ts`.
 *
 * Sums of squares and dot products run in f32 over four lanes (the reference sums in f64), so results agree
 * with the reference to rounding; they do not depend on the thread count.
 *
 * @module
 */

import type { CpuEngine } from "./engine.ts";
import { ROPE_TABLE_MAX, ropeTable } from "./kernels.ts";
import { ROW_KERNELS } from "./simd.ts";

/** RMSNorm forward: writes `out` and `rstd`. */
export function rmsNormForwardRows(
  engine: CpuEngine,
  x: Float32Array,
  weight: Float32Array,
  out: Float32Array,
  rstd: Float32Array,
  rows: number,
  dim: number,
  eps: number,
): boolean {
  if (dim % 4 !== 0) return false;
  const n = rows * dim;
  return engine.rows(
    ROW_KERNELS.rmsNormForward,
    [
      { array: x, length: n, use: "in" },
      { array: weight, length: dim, use: "in" },
      { array: out, length: n, use: "out" },
      { array: rstd, length: rows, use: "out" },
    ],
    rows,
    dim,
    0,
    eps,
    true,
    n,
  );
}

/** RMSNorm backward: accumulates into `dx` (split by rows) and `dWeight` (column sums, unsplit). */
export function rmsNormBackwardRows(
  engine: CpuEngine,
  x: Float32Array,
  weight: Float32Array,
  rstd: Float32Array,
  dOut: Float32Array,
  dx: Float32Array,
  dWeight: Float32Array,
  rows: number,
  dim: number,
): boolean {
  if (dim % 4 !== 0) return false;
  const n = rows * dim;
  return engine.rows(
    ROW_KERNELS.rmsNormDx,
    [
      { array: x, length: n, use: "in" },
      { array: weight, length: dim, use: "in" },
      { array: rstd, length: rows, use: "in" },
      { array: dOut, length: n, use: "in" },
      { array: dx, length: n, use: "inout" },
    ],
    rows,
    dim,
    0,
    0,
    true,
    n,
  ) &&
    engine.rows(
      ROW_KERNELS.rmsNormDWeight,
      [
        { array: x, length: n, use: "in" },
        { array: rstd, length: rows, use: "in" },
        { array: dOut, length: n, use: "in" },
        { array: dWeight, length: dim, use: "inout" },
      ],
      rows,
      dim,
      0,
      0,
      false,
      n,
    );
}

/** `x[r, :] += bias`. */
export function addBiasRows(
  engine: CpuEngine,
  x: Float32Array,
  bias: Float32Array,
  rows: number,
  dim: number,
) {
  if (dim % 4 !== 0) return false;
  return engine.rows(
    ROW_KERNELS.addBias,
    [
      { array: x, length: rows * dim, use: "inout" },
      { array: bias, length: dim, use: "in" },
    ],
    rows,
    dim,
    0,
    0,
    true,
    rows * dim,
  );
}

/** `dBias += sum_r dOut[r, :]` (column sums, unsplit). */
export function biasGradRows(
  engine: CpuEngine,
  dOut: Float32Array,
  dBias: Float32Array,
  rows: number,
  dim: number,
) {
  if (dim % 4 !== 0) return false;
  return engine.rows(
    ROW_KERNELS.columnSums,
    [
      { array: dOut, length: rows * dim, use: "in" },
      { array: dBias, length: dim, use: "inout" },
    ],
    rows,
    dim,
    0,
    0,
    false,
    rows * dim,
  );
}

/** Rotary embedding in place (`rotate_half` layout) from the shared angle table of `kernels.ts`. */
export function ropeRows(
  engine: CpuEngine,
  x: Float32Array,
  positions: Int32Array,
  rows: number,
  heads: number,
  headDim: number,
  theta: number,
  inverse: boolean,
): boolean {
  if (headDim % 8 !== 0) return false;
  let maxPos = 0;
  for (let r = 0; r < rows; r++) {
    const pos = positions[r];
    if (!(pos >= 0 && pos < ROPE_TABLE_MAX)) return false;
    if (pos > maxPos) maxPos = pos;
  }
  const table = ropeTable(headDim, theta, maxPos), angles = (maxPos + 1) * (headDim / 2);
  return engine.rows(
    ROW_KERNELS.rope,
    [
      { array: x, length: rows * heads * headDim, use: "inout" },
      { array: positions, length: rows, use: "in" },
      { array: table.cos, length: angles, use: "in" },
      { array: table.sin, length: angles, use: "in" },
    ],
    rows,
    heads,
    headDim,
    inverse ? -1 : 1,
    true,
    rows * heads * headDim,
  );
}
