/**
 * Generators for the element- and row-wise kernels of the WebGPU backend: fill, copy, scale, axpy, sum of
 * squares, SwiGLU, bias, embedding, row gather/scatter, KV-cache write and AdamW. Shapes are baked in as
 * constants; values that change from call to call (fill value, scale, learning rate, step) come in a uniform.
 * Semantics are those of `../backend.ts`.
 *
 * @module
 */

import type { Dispatchable } from "./matmul.ts";
import { buildKernel, entry, spreadGroups, u32 } from "./wgsl.ts";

const WG = 256;

/** A flat elementwise kernel over `n` elements; `body` sees `i` (guarded `i < n`). */
function flat(name: string, params: Parameters<typeof buildKernel>[1], n: number, body: string, pre = "") {
  const { groups, id } = spreadGroups(Math.ceil(n / WG));
  const kernel = buildKernel(
    `${name}_${n}`,
    params,
    `${pre}
${entry(WG)} {
  let i = ${id} * ${WG}u + lid;
  if (i >= ${u32(n)}) { return; }
  ${body}
}`,
  );
  return { kernel, groups } satisfies Dispatchable;
}

/** `x[i] = u.v` over `n` elements; bindings: x (rw), uniform `{v: f32}`. */
export function fillKernel(n: number): Dispatchable {
  return flat(
    "fill",
    [{ name: "x", kind: "rw" }, { name: "u", kind: "uniform", type: "U" }],
    n,
    `x[i] = u.v;`,
    `
struct U { v: f32 }`,
  );
}

/** `dst[i] = src[i]` over `n` 32-bit elements; bindings: src (read), dst (rw). */
export function copyKernel(n: number): Dispatchable {
  return flat(
    "copy",
    [{ name: "src", kind: "read", type: "u32" }, { name: "dst", kind: "rw", type: "u32" }],
    n,
    `
  dst[i] = src[i];`,
  );
}

/** `x[i] *= u.v`; bindings: x (rw), uniform `{v: f32}`. */
export function scaleKernel(n: number): Dispatchable {
  return flat(
    "scale",
    [{ name: "x", kind: "rw" }, { name: "u", kind: "uniform", type: "U" }],
    n,
    `x[i] *= u.v;`,
    `
struct U { v: f32 }`,
  );
}

/** `dst[i] += u.v * src[i]`; bindings: dst (rw), src (read), uniform `{v: f32}`. */
export function addIntoKernel(n: number): Dispatchable {
  return flat(
    "add_into",
    [{ name: "dst", kind: "rw" }, { name: "src", kind: "read" }, { name: "u", kind: "uniform", type: "U" }],
    n,
    `dst[i] = fma(u.v, src[i], dst[i]);`,
    `
struct U { v: f32 }`,
  );
}

/** Workgroups of the first pass of {@linkcode sumSquaresKernels}. */
export function sumSquaresParts(n: number): number {
  return Math.max(1, Math.min(WG, Math.ceil(n / (WG * 16))));
}

/**
 * Sum of squares in two passes: `partial[g] = sum over a strided share of x^2`, then
 * `out[0] = (accumulate ? out[0] : 0) + sum partial`. Bindings: pass 1 x (read), partial (rw); pass 2 partial
 * (read), out (rw).
 */
export function sumSquaresKernels(n: number, accumulate: boolean): [Dispatchable, Dispatchable] {
  const parts = sumSquaresParts(n);
  const reduce = (v: string) => `
  red[lid] = ${v};
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }`;
  const pass1 = buildKernel(
    `sumsq1_${n}`,
    [{ name: "x", kind: "read" }, { name: "partial", kind: "rw" }],
    `
var<workgroup> red: array<f32, ${WG}>;
${entry(WG)} {
  var acc = 0.0;
  for (var i = wid.x * ${WG}u + lid; i < ${u32(n)}; i += ${
      parts * WG
    }u) { let v = x[i]; acc = fma(v, v, acc); }
  ${reduce("acc")}
  if (lid == 0u) { partial[wid.x] = red[0]; }
}`,
  );
  const pass2 = buildKernel(
    `sumsq2_${parts}_${accumulate}`,
    [
      { name: "partial", kind: "read" },
      { name: "out", kind: "rw" },
    ],
    `
var<workgroup> red: array<f32, ${WG}>;
${entry(WG)} {
  ${reduce(`select(0.0, partial[lid], lid < ${parts}u)`)}
  if (lid == 0u) { out[0] = ${accumulate ? "out[0] + " : ""}red[0]; }
}`,
  );
  return [{ kernel: pass1, groups: [parts] }, { kernel: pass2, groups: [1] }];
}

/** `out = silu(gate) * up`; bindings: gate, up (read), out (rw). */
export function swigluForwardKernel(n: number): Dispatchable {
  return flat(
    "swiglu_fwd",
    [
      { name: "gate", kind: "read" },
      { name: "up", kind: "read" },
      { name: "out", kind: "rw" },
    ],
    n,
    `let g = gate[i]; out[i] = g / (1.0 + exp(-g)) * up[i];`,
  );
}

/** SwiGLU backward; bindings: gate, up, dOut (read), dGate, dUp (rw). */
export function swigluBackwardKernel(n: number): Dispatchable {
  return flat(
    "swiglu_bwd",
    [
      { name: "gate", kind: "read" },
      { name: "up", kind: "read" },
      { name: "dOut", kind: "read" },
      { name: "dGate", kind: "rw" },
      { name: "dUp", kind: "rw" },
    ],
    n,
    `
  let g = gate[i]; let s = 1.0 / (1.0 + exp(-g)); let d = dOut[i];
  dUp[i] = d * g * s;
  dGate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));`,
  );
}

/** `x[r, c] += bias[c]`; bindings: x (rw), bias (read). */
export function addBiasKernel(rows: number, dim: number): Dispatchable {
  return flat(
    `add_bias_${dim}`,
    [{ name: "x", kind: "rw" }, { name: "bias", kind: "read" }],
    rows * dim,
    `
  x[i] += bias[i % ${u32(dim)}];`,
  );
}

/** Rows each workgroup of {@linkcode columnPartialKernel} reduces. */
export const COLUMN_CHUNK_ROWS = 64;

/** Chunks (and partial rows) {@linkcode columnPartialKernel} produces for `rows` rows. */
export function columnChunks(rows: number): number {
  return Math.ceil(rows / COLUMN_CHUNK_ROWS);
}

/**
 * First pass of a column reduction over `[rows, dim]`: `partial[j, c] = sum over the rows of chunk j` of
 * `src[r, c]` (bias gradient), or with `rmsNormWeight` of `dOut[r, c] * x[r, c] * rstd[r]` (RMSNorm weight
 * gradient). One thread per column and chunk of {@linkcode COLUMN_CHUNK_ROWS} rows, so tall inputs still fill the
 * device. Bindings: src (read) or x, rstd, dOut (read); then partial (rw, `[columnChunks(rows), dim]`).
 */
export function columnPartialKernel(rows: number, dim: number, rmsNormWeight: boolean): Dispatchable {
  const chunks = columnChunks(rows);
  if (chunks > 65535) throw new RangeError(`column reduction: too many rows (${rows})`);
  const D = u32(dim);
  const params: Parameters<typeof buildKernel>[1] = rmsNormWeight
    ? [{ name: "x", kind: "read" }, { name: "rstd", kind: "read" }, { name: "dOut", kind: "read" }]
    : [{ name: "src", kind: "read" }];
  params.push({ name: "partial", kind: "rw" });
  const term = rmsNormWeight ? `dOut[r * ${D} + c] * (x[r * ${D} + c] * rstd[r])` : `src[r * ${D} + c]`;
  const kernel = buildKernel(
    `colsum_${rmsNormWeight ? "rms" : "sum"}_${rows}_${dim}`,
    params,
    `
${entry(64)} {
  let c = wid.x * 64u + lid;
  if (c >= ${D}) { return; }
  let r0 = wid.y * ${COLUMN_CHUNK_ROWS}u;
  let r1 = min(r0 + ${COLUMN_CHUNK_ROWS}u, ${u32(rows)});
  var acc = 0.0;
  for (var r = r0; r < r1; r++) { acc += ${term}; }
  partial[wid.y * ${D} + c] = acc;
}`,
  );
  return { kernel, groups: [Math.ceil(dim / 64), chunks] };
}

/** Second pass: `out[c] += sum_j partial[j, c]`. Bindings: partial (read), out (rw). */
export function columnFinishKernel(chunks: number, dim: number): Dispatchable {
  return flat(
    `colsum_finish_${chunks}`,
    [{ name: "partial", kind: "read" }, { name: "out", kind: "rw" }],
    dim,
    `
  var acc = 0.0;
  for (var j = 0u; j < ${u32(chunks)}; j++) { acc += partial[j * ${u32(dim)} + i]; }
  out[i] += acc;`,
  );
}

/**
 * Row gather `out[i, :] = src[index[i], :]` (embedding lookup, row selection); an index outside
 * `[0, srcRows)` yields a zero row. Bindings: src (read), index (read, i32), out (rw).
 */
export function gatherRowsKernel(count: number, width: number, srcRows: number): Dispatchable {
  return flat(
    `gather_${width}_${srcRows}`,
    [
      { name: "src", kind: "read" },
      { name: "index", kind: "read", type: "i32" },
      { name: "out", kind: "rw" },
    ],
    count * width,
    `
  let r = index[i / ${u32(width)}];
  var v = 0.0;
  if (r >= 0 && u32(r) < ${u32(srcRows)}) { v = src[u32(r) * ${u32(width)} + i % ${u32(width)}]; }
  out[i] = v;`,
  );
}

/**
 * Row scatter-add with distinct indices `dst[index[i], :] += src[i, :]`; indices outside `[0, dstRows)` are
 * skipped. Bindings: src (read), index (read, i32), dst (rw).
 */
export function scatterAddRowsKernel(count: number, width: number, dstRows: number): Dispatchable {
  return flat(
    `scatter_${width}_${dstRows}`,
    [
      { name: "src", kind: "read" },
      { name: "index", kind: "read", type: "i32" },
      { name: "dst", kind: "rw" },
    ],
    count * width,
    `
  let r = index[i / ${u32(width)}];
  if (r >= 0 && u32(r) < ${u32(dstRows)}) { dst[u32(r) * ${u32(width)} + i % ${u32(width)}] += src[i]; }`,
  );
}

/**
 * Embedding backward with repeated tokens: `dTable[tokens[r], c] += dOut[r, c]`. One thread per column walks
 * the rows in order, so repeated tokens never race. Bindings: tokens (read, i32), dOut (read), dTable (rw).
 */
export function embeddingBackwardKernel(rows: number, dim: number, vocab: number): Dispatchable {
  return flat(
    `embed_bwd_${rows}_${vocab}`,
    [
      { name: "tokens", kind: "read", type: "i32" },
      { name: "dOut", kind: "read" },
      { name: "dTable", kind: "rw" },
    ],
    dim,
    `
  for (var r = 0u; r < ${u32(rows)}; r++) {
    let t = tokens[r];
    if (t >= 0 && u32(t) < ${u32(vocab)}) {
      dTable[u32(t) * ${u32(dim)} + i] += dOut[r * ${u32(dim)} + i];
    }
  }`,
  );
}

/**
 * KV-cache write: row `(b, i)` of src goes to slot `lengths[b] + i` of sequence `b`; rows that would land at or
 * past `capacity` are dropped. Bindings: src (read), lengths (read, i32), cache (rw).
 */
export function kvCacheWriteKernel(
  batch: number,
  queryLen: number,
  capacity: number,
  width: number,
): Dispatchable {
  return flat(
    `kv_write_${queryLen}_${capacity}_${width}`,
    [
      { name: "src", kind: "read" },
      { name: "lengths", kind: "read", type: "i32" },
      { name: "cache", kind: "rw" },
    ],
    batch * queryLen * width,
    `
  let row = i / ${u32(width)}; let c = i % ${u32(width)};
  let b = row / ${u32(queryLen)}; let q = row % ${u32(queryLen)};
  let len = lengths[b];
  if (len < 0) { return; }
  let slot = u32(len) + q;
  if (slot < ${u32(capacity)}) { cache[(b * ${u32(capacity)} + slot) * ${u32(width)} + c] = src[i]; }`,
  );
}

/** AdamW hyper-parameters as the kernel's uniform: 8 f32 (see {@linkcode adamwUniform}). */
export function adamwKernel(n: number): Dispatchable {
  return flat(
    "adamw",
    [
      { name: "p", kind: "rw" },
      { name: "g", kind: "read" },
      { name: "m", kind: "rw" },
      { name: "v", kind: "rw" },
      { name: "u", kind: "uniform", type: "H" },
    ],
    n,
    `
  let gi = g[i] * u.gradScale;
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * gi;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * gi * gi;
  m[i] = mi; v[i] = vi;
  p[i] = p[i] * u.decay - u.lr * (mi / u.bc1) / (sqrt(vi / u.bc2) + u.eps);`,
    `
struct H { lr: f32, beta1: f32, beta2: f32, eps: f32, decay: f32, bc1: f32, bc2: f32, gradScale: f32 }`,
  );
}

/** The uniform of {@linkcode adamwKernel} for one step. */
export function adamwUniform(h: {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  gradScale: number;
}): Float32Array {
  if (!(h.step >= 1)) throw new RangeError(`adamw: step must be >= 1, got ${h.step}`);
  return new Float32Array([
    h.lr,
    h.beta1,
    h.beta2,
    h.eps,
    1 - h.lr * h.weightDecay,
    1 - Math.pow(h.beta1, h.step),
    1 - Math.pow(h.beta2, h.step),
    h.gradScale,
  ]);
}
