/**
 * Generators for RMSNorm (forward, backward) and rotary position embedding kernels. Semantics: `../backend.ts`.
 *
 * @module
 */

import type { Dispatchable } from "./matmul.ts";
import { buildKernel, entry, f32, spreadGroups, u32 } from "./wgsl.ts";

const WG = 256;

function rowReduce(v: string): string {
  return `red[lid] = ${v};
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();`;
}

/** RMSNorm forward, one workgroup per row. Bindings: x, weight (read), out, rstd (rw). */
export function rmsNormForwardKernel(rows: number, dim: number, eps: number): Dispatchable {
  const { groups, id } = spreadGroups(rows);
  const D = u32(dim);
  const kernel = buildKernel(
    `rmsnorm_fwd_${rows}_${dim}`,
    [
      { name: "x", kind: "read" },
      { name: "weight", kind: "read" },
      { name: "out", kind: "rw" },
      { name: "rstd", kind: "rw" },
    ],
    `
var<workgroup> red: array<f32, ${WG}>;
${entry(WG)} {
  let row = ${id};
  if (row >= ${u32(rows)}) { return; }
  let o = row * ${D};
  var ss = 0.0;
  for (var c = lid; c < ${D}; c += ${WG}u) { let v = x[o + c]; ss = fma(v, v, ss); }
  ${rowReduce("ss")}
  let s = 1.0 / sqrt(total / f32(${D}) + ${f32(eps)});
  if (lid == 0u) { rstd[row] = s; }
  for (var c = lid; c < ${D}; c += ${WG}u) { out[o + c] = weight[c] * (x[o + c] * s); }
}`,
  );
  return { kernel, groups };
}

/**
 * RMSNorm backward for `dx` (accumulated), one workgroup per row:
 * `dx += rstd * (dOut*w - xh * mean(dOut*w*xh))`. Bindings: x, weight, rstd, dOut (read), dx (rw). The weight
 * gradient is a column reduction (`columnPartialKernel` in elementwise.ts).
 */
export function rmsNormBackwardDxKernel(rows: number, dim: number): Dispatchable {
  const { groups, id } = spreadGroups(rows);
  const D = u32(dim);
  const kernel = buildKernel(
    `rmsnorm_bwd_dx_${rows}_${dim}`,
    [
      { name: "x", kind: "read" },
      { name: "weight", kind: "read" },
      { name: "rstd", kind: "read" },
      { name: "dOut", kind: "read" },
      { name: "dx", kind: "rw" },
    ],
    `
var<workgroup> red: array<f32, ${WG}>;
${entry(WG)} {
  let row = ${id};
  if (row >= ${u32(rows)}) { return; }
  let o = row * ${D};
  let s = rstd[row];
  var acc = 0.0;
  for (var c = lid; c < ${D}; c += ${WG}u) { acc += dOut[o + c] * weight[c] * (x[o + c] * s); }
  ${rowReduce("acc")}
  let dot = total / f32(${D});
  for (var c = lid; c < ${D}; c += ${WG}u) {
    dx[o + c] += s * (dOut[o + c] * weight[c] - (x[o + c] * s) * dot);
  }
}`,
  );
  return { kernel, groups };
}

/** Positions covered by the host-computed cos/sin table of {@linkcode ropeTable}. */
export const ROPE_TABLE_POSITIONS = 4096;

/**
 * The rotary cos/sin table `[ROPE_TABLE_POSITIONS, headDim]`: row `p` holds `cos(a_j)` for `j < D/2` then
 * `sin(a_j)`, with `a_j = fround(p * invFreq_j)` and `invFreq_j = 1 / theta^(fround(2j/D))` rounded to f32, as
 * the CPU reference and transformers compute them.
 */
export function ropeTable(headDim: number, theta: number): { table: Float32Array; invFreq: Float32Array } {
  if (headDim % 2 !== 0) throw new RangeError(`rope: headDim must be even, got ${headDim}`);
  const half = headDim / 2;
  const invFreq = new Float32Array(half);
  for (let j = 0; j < half; j++) invFreq[j] = 1 / Math.pow(theta, Math.fround((2 * j) / headDim));
  const table = new Float32Array(ROPE_TABLE_POSITIONS * headDim);
  for (let p = 0; p < ROPE_TABLE_POSITIONS; p++) {
    for (let j = 0; j < half; j++) {
      const a = Math.fround(p * invFreq[j]);
      table[p * headDim + j] = Math.cos(a);
      table[p * headDim + half + j] = Math.sin(a);
    }
  }
  return { table, invFreq };
}

/**
 * Rotary embedding in place, `rotate_half` layout, one thread per (row, head, j < D/2). Angles of positions
 * inside the table come from it; beyond it they are computed on the device from `invFreq` (f32 sin/cos).
 * Bindings: x (rw), positions (read, i32), table (read), invFreq (read).
 */
export function ropeKernel(rows: number, heads: number, headDim: number, inverse: boolean): Dispatchable {
  const half = headDim / 2;
  const n = rows * heads * half;
  const { groups, id } = spreadGroups(Math.ceil(n / WG));
  const sign = inverse ? "-" : "";
  const kernel = buildKernel(
    `rope_${rows}_${heads}_${headDim}_${inverse}`,
    [
      { name: "x", kind: "rw" },
      { name: "positions", kind: "read", type: "i32" },
      { name: "table", kind: "read" },
      { name: "invFreq", kind: "read" },
    ],
    `
${entry(WG)} {
  let i = ${id} * ${WG}u + lid;
  if (i >= ${u32(n)}) { return; }
  let j = i % ${u32(half)};
  let rh = i / ${u32(half)};
  let row = rh / ${u32(heads)};
  let p = positions[row];
  var c = 0.0; var s = 0.0;
  if (p >= 0 && u32(p) < ${u32(ROPE_TABLE_POSITIONS)}) {
    c = table[u32(p) * ${u32(headDim)} + j]; s = table[u32(p) * ${u32(headDim)} + ${u32(half)} + j];
  } else {
    let a = f32(p) * invFreq[j]; c = cos(a); s = sin(a);
  }
  s = ${sign}s;
  let o = rh * ${u32(headDim)} + j;
  let x1 = x[o]; let x2 = x[o + ${u32(half)}];
  x[o] = x1 * c - x2 * s;
  x[o + ${u32(half)}] = x2 * c + x1 * s;
}`,
  );
  return { kernel, groups };
}
