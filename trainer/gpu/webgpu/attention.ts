/**
 * Generators for causal grouped-query attention kernels, in the memory-efficient (FlashAttention) form: scores
 * are never stored; each thread owns one query (forward, dQ) or one key (dK/dV), keeps its `headDim` vectors in
 * named registers (unrolled at generation time), and streams tiles of the other side through workgroup memory
 * with an online softmax. Layouts and semantics are those of `../backend.ts`.
 *
 * @module
 */

import type { Dispatchable } from "./matmul.ts";
import { buildKernel, entry, f32 } from "./wgsl.ts";

/** Threads (rows) per workgroup. */
const BQ = 64;

/** Keys or queries staged per tile in workgroup memory, bounded so two tiles fit in 16 KiB. */
function tileRows(headDim: number): number {
  return Math.max(4, Math.min(32, Math.floor(2048 / headDim)));
}

/** The shape an attention kernel is specialised for. */
export interface AttentionKernelShape {
  /** Sequences. */
  batch: number;
  /** Query rows per sequence. */
  queryLen: number;
  /** Key rows per sequence: `seqLen` for training, `capacity` for a KV cache. */
  keyLen: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (divides `heads`). */
  kvHeads: number;
  /** Head dimension. */
  headDim: number;
}

function check(s: AttentionKernelShape): number {
  for (const [k, v] of Object.entries(s)) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(`attention: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (s.heads % s.kvHeads !== 0) {
    throw new RangeError(`attention: heads (${s.heads}) must be a multiple of kvHeads (${s.kvHeads})`);
  }
  if (s.batch > 65535 || s.heads > 65535) throw new RangeError("attention: batch and heads must be <= 65535");
  return s.heads / s.kvHeads;
}

/** Code for a thread's `headDim`-long vectors as named scalars, every loop over d unrolled. */
interface VecCode {
  /** Declares vector `name` with element `d` initialised to `init(d)` (`d` is a WGSL u32 literal). */
  decl(name: string, init: (d: string) => string): string;
  /** Declares `out` as the dot product of vector `name` with `arr[base + d]`. */
  dot(out: string, name: string, arr: string, base: string): string;
  /** `body` for every d; `r(name)` is element d of vector `name`, `d` the index literal. */
  each(body: (r: (name: string) => string, d: string) => string): string;
}

function vecCode(D: number): VecCode {
  const ds = Array.from({ length: D }, (_, d) => d);
  return {
    decl: (name, init) => ds.map((d) => `var ${name}${d} = ${init(`${d}u`)};`).join(" "),
    dot: (out, name, arr, base) =>
      `let ${out} = ${ds.map((d) => `${name}${d} * ${arr}[${base} + ${d}u]`).join(" + ")};`,
    each: (body) => ds.map((d) => body((n) => `${n}${d}`, `${d}u`)).join("\n      "),
  };
}

/** Stages `rows x D` floats of `src` rows `first..` into workgroup array `dst` (zeros past `limit`). */
function stage(
  dst: string,
  src: string,
  rows: number,
  D: number,
  rowIndex: (j: string) => string,
  ok: string,
) {
  return `for (var e = lid; e < ${rows * D}u; e += ${BQ}u) {
      let j = e / ${D}u; let d = e % ${D}u;
      var v = 0.0;
      if (${ok}) { v = ${src}[${rowIndex("j")} + d]; }
      ${dst}[e] = v;
    }`;
}

/**
 * Attention forward. `cached` false: causal self-attention, query `t` sees keys `0..t` of its sequence, writes
 * `out` and `lse`; bindings q, k, v (read), out, lse (rw). `cached` true: query `(b, i)` sees cache slots
 * `0..lengths[b] + i`; bindings q, kCache, vCache (read), lengths (read, i32), out (rw).
 */
export function attentionForwardKernel(s: AttentionKernelShape, cached: boolean): Dispatchable {
  const group = check(s);
  const vec = vecCode(s.headDim);
  const { batch, queryLen: TQ, keyLen: TK, heads: H, kvHeads: KV, headDim: D } = s;
  const BK = tileRows(D);
  const scale = 1 / Math.sqrt(D);
  const params: Parameters<typeof buildKernel>[1] = [
    { name: "Q", kind: "read" },
    { name: "K", kind: "read" },
    { name: "V", kind: "read" },
  ];
  if (cached) params.push({ name: "lengths", kind: "read", type: "i32" });
  params.push({ name: "O", kind: "rw" });
  if (!cached) params.push({ name: "LSE", kind: "rw" });
  const kvRow = (j: string) => `((b * ${TK}u + k0 + ${j}) * ${KV * D}u + kvh * ${D}u)`;
  const code = `
var<workgroup> Ks: array<f32, ${BK * D}>;
var<workgroup> Vs: array<f32, ${BK * D}>;
${cached ? "var<workgroup> lenShared: i32;" : ""}
${entry(BQ)} {
  let b = wid.z; let h = wid.y; let kvh = h / ${group}u;
  let q0 = wid.x * ${BQ}u; let t = q0 + lid;
  ${
    cached
      ? `if (lid == 0u) { lenShared = max(lengths[b], 0); }
  let len = u32(workgroupUniformLoad(&lenShared));
  let last = min(len + t, ${TK - 1}u);
  let kEnd = min(len + min(q0 + ${BQ}u, ${TQ}u), ${TK}u);`
      : `let last = t;
  let kEnd = min(q0 + ${BQ}u, ${TQ}u);`
  }
  let live = t < ${TQ}u;
  let qo = (b * ${TQ}u + t) * ${H * D}u + h * ${D}u;
  ${vec.decl("rq", (d) => `select(0.0, Q[qo + ${d}] * ${f32(scale)}, live)`)}
  ${vec.decl("ra", () => "0.0")}
  var m = -3.0e38; var l = 0.0;
  for (var k0 = 0u; k0 < kEnd; k0 += ${BK}u) {
    ${stage("Ks", "K", BK, D, kvRow, `k0 + j < ${TK}u`)}
    ${stage("Vs", "V", BK, D, kvRow, `k0 + j < ${TK}u`)}
    workgroupBarrier();
    for (var j = 0u; j < ${BK}u; j++) {
      if (live && k0 + j <= last) {
        let jo = j * ${D}u;
        ${vec.dot("sc", "rq", "Ks", "jo")}
        let mn = max(m, sc);
        let c = exp(m - mn); let p = exp(sc - mn);
        l = l * c + p; m = mn;
        ${vec.each((r, d) => `${r("ra")} = fma(p, Vs[jo + ${d}], ${r("ra")} * c);`)}
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let inv = 1.0 / l;
    ${vec.each((r, d) => `O[qo + ${d}] = ${r("ra")} * inv;`)}
    ${cached ? "" : `LSE[(b * ${H}u + h) * ${TQ}u + t] = m + log(l);`}
  }
}`;
  return {
    kernel: buildKernel(`attention_${cached ? "cached" : "fwd"}_${JSON.stringify(s)}`, params, code),
    groups: [Math.ceil(TQ / BQ), H, batch],
  };
}

/**
 * `delta[b, h, t] = sum_d dOut * out` (the softmax backward's row term). Bindings: O, dO (read), delta (rw).
 */
export function attentionDeltaKernel(s: AttentionKernelShape): Dispatchable {
  check(s);
  const { batch, queryLen: T, heads: H, headDim: D } = s;
  const code = `
${entry(BQ)} {
  let b = wid.z; let h = wid.y; let t = wid.x * ${BQ}u + lid;
  if (t >= ${T}u) { return; }
  let o = (b * ${T}u + t) * ${H * D}u + h * ${D}u;
  var acc = 0.0;
  for (var d = 0u; d < ${D}u; d++) { acc = fma(O[o + d], dO[o + d], acc); }
  delta[(b * ${H}u + h) * ${T}u + t] = acc;
}`;
  return {
    kernel: buildKernel(`attention_delta_${JSON.stringify(s)}`, [
      { name: "O", kind: "read" },
      { name: "dO", kind: "read" },
      { name: "delta", kind: "rw" },
    ], code),
    groups: [Math.ceil(T / BQ), H, batch],
  };
}

/**
 * Attention backward for dQ (overwritten): one thread per query, key tiles streamed.
 * Bindings: Q, K, V, dO, LSE, delta (read), dQ (rw).
 */
export function attentionBackwardDqKernel(s: AttentionKernelShape): Dispatchable {
  const group = check(s);
  const vec = vecCode(s.headDim);
  const { batch, queryLen: T, heads: H, kvHeads: KV, headDim: D } = s;
  const BK = tileRows(D);
  const scale = 1 / Math.sqrt(D);
  const kvRow = (j: string) => `((b * ${T}u + k0 + ${j}) * ${KV * D}u + kvh * ${D}u)`;
  const code = `
var<workgroup> Ks: array<f32, ${BK * D}>;
var<workgroup> Vs: array<f32, ${BK * D}>;
${entry(BQ)} {
  let b = wid.z; let h = wid.y; let kvh = h / ${group}u;
  let q0 = wid.x * ${BQ}u; let t = q0 + lid;
  let live = t < ${T}u;
  let kEnd = min(q0 + ${BQ}u, ${T}u);
  let qo = (b * ${T}u + t) * ${H * D}u + h * ${D}u;
  let ri = (b * ${H}u + h) * ${T}u + min(t, ${T - 1}u);
  let lse = LSE[ri]; let dl = delta[ri];
  ${vec.decl("rq", (d) => `select(0.0, Q[qo + ${d}] * ${f32(scale)}, live)`)}
  ${vec.decl("rg", (d) => `select(0.0, dO[qo + ${d}], live)`)}
  ${vec.decl("ra", () => "0.0")}
  for (var k0 = 0u; k0 < kEnd; k0 += ${BK}u) {
    ${stage("Ks", "K", BK, D, kvRow, `k0 + j < ${T}u`)}
    ${stage("Vs", "V", BK, D, kvRow, `k0 + j < ${T}u`)}
    workgroupBarrier();
    for (var j = 0u; j < ${BK}u; j++) {
      if (live && k0 + j <= t) {
        let jo = j * ${D}u;
        ${vec.dot("sc", "rq", "Ks", "jo")}
        ${vec.dot("dp", "rg", "Vs", "jo")}
        let p = exp(sc - lse);
        let ds = p * (dp - dl) * ${f32(scale)};
        ${vec.each((r, d) => `${r("ra")} = fma(ds, Ks[jo + ${d}], ${r("ra")});`)}
      }
    }
    workgroupBarrier();
  }
  if (live) {
    ${vec.each((r, d) => `dQ[qo + ${d}] = ${r("ra")};`)}
  }
}`;
  return {
    kernel: buildKernel(`attention_bwd_dq_${JSON.stringify(s)}`, [
      { name: "Q", kind: "read" },
      { name: "K", kind: "read" },
      { name: "V", kind: "read" },
      { name: "dO", kind: "read" },
      { name: "LSE", kind: "read" },
      { name: "delta", kind: "read" },
      { name: "dQ", kind: "rw" },
    ], code),
    groups: [Math.ceil(T / BQ), H, batch],
  };
}

/**
 * Attention backward for dK and dV (overwritten): one thread per key of one key/value head, summing over the
 * query heads of its group and the queries at or after it, query tiles streamed.
 * Bindings: Q, K, V, dO, LSE, delta (read), dK, dV (rw).
 */
export function attentionBackwardDkvKernel(s: AttentionKernelShape): Dispatchable {
  const group = check(s);
  const vec = vecCode(s.headDim);
  const { batch, queryLen: T, heads: H, kvHeads: KV, headDim: D } = s;
  const BT = tileRows(D);
  const scale = 1 / Math.sqrt(D);
  const qRow = (j: string) => `((b * ${T}u + t0 + ${j}) * ${H * D}u + h * ${D}u)`;
  const code = `
var<workgroup> Qs: array<f32, ${BT * D}>;
var<workgroup> Gs: array<f32, ${BT * D}>;
var<workgroup> Ls: array<f32, ${BT}>;
var<workgroup> Ds: array<f32, ${BT}>;
${entry(BQ)} {
  let b = wid.z; let kvh = wid.y;
  let u0 = wid.x * ${BQ}u; let u = u0 + lid;
  let live = u < ${T}u;
  let ko = (b * ${T}u + u) * ${KV * D}u + kvh * ${D}u;
  ${vec.decl("rk", (d) => `select(0.0, K[ko + ${d}], live)`)}
  ${vec.decl("rv", (d) => `select(0.0, V[ko + ${d}], live)`)}
  ${vec.decl("rdk", () => "0.0")}
  ${vec.decl("rdv", () => "0.0")}
  for (var hi = 0u; hi < ${group}u; hi++) {
    let h = kvh * ${group}u + hi;
    for (var t0 = u0; t0 < ${T}u; t0 += ${BT}u) {
      ${stage("Qs", "Q", BT, D, qRow, `t0 + j < ${T}u`)}
      ${stage("Gs", "dO", BT, D, qRow, `t0 + j < ${T}u`)}
      for (var j = lid; j < ${BT}u; j += ${BQ}u) {
        let ri = (b * ${H}u + h) * ${T}u + min(t0 + j, ${T - 1}u);
        Ls[j] = LSE[ri]; Ds[j] = delta[ri];
      }
      workgroupBarrier();
      for (var j = 0u; j < ${BT}u; j++) {
        let t = t0 + j;
        if (live && t >= u && t < ${T}u) {
          let jo = j * ${D}u;
          ${vec.dot("sc", "rk", "Qs", "jo")}
          ${vec.dot("dp", "rv", "Gs", "jo")}
          let p = exp(sc * ${f32(scale)} - Ls[j]);
          let ds = p * (dp - Ds[j]) * ${f32(scale)};
          ${vec.each((r, d) => `${r("rdv")} = fma(p, Gs[jo + ${d}], ${r("rdv")});`)}
          ${vec.each((r, d) => `${r("rdk")} = fma(ds, Qs[jo + ${d}], ${r("rdk")});`)}
        }
      }
      workgroupBarrier();
    }
  }
  if (live) {
    ${vec.each((r, d) => `dK[ko + ${d}] = ${r("rdk")};`)}
    ${vec.each((r, d) => `dV[ko + ${d}] = ${r("rdv")};`)}
  }
}`;
  return {
    kernel: buildKernel(`attention_bwd_dkv_${JSON.stringify(s)}`, [
      { name: "Q", kind: "read" },
      { name: "K", kind: "read" },
      { name: "V", kind: "read" },
      { name: "dO", kind: "read" },
      { name: "LSE", kind: "read" },
      { name: "delta", kind: "read" },
      { name: "dK", kind: "rw" },
      { name: "dV", kind: "rw" },
    ], code),
    groups: [Math.ceil(T / BQ), KV, batch],
  };
}

/**
 * Attention of one new query per sequence against a KV cache (decoding), split over the keys: each of the
 * workgroup's threads runs an online softmax over every `threads`-th cached key, then the partial results merge
 * through workgroup memory. Query `b` sees slots `0..lengths[b]`. Bindings: q, kCache, vCache (read), lengths
 * (read, i32), out (rw).
 */
export function attentionDecodeKernel(s: Omit<AttentionKernelShape, "queryLen">): Dispatchable {
  const group = check({ ...s, queryLen: 1 });
  const vec = vecCode(s.headDim);
  const { batch, keyLen: TK, heads: H, kvHeads: KV, headDim: D } = s;
  const NT = D > 64 ? 32 : 64;
  const scale = 1 / Math.sqrt(D);
  const code = `
var<workgroup> Ms: array<f32, ${NT}>;
var<workgroup> Ls: array<f32, ${NT}>;
var<workgroup> As: array<f32, ${NT * D}>;
${entry(NT)} {
  let b = wid.z; let h = wid.y; let kvh = h / ${group}u;
  let last = min(u32(max(lengths[b], 0)), ${TK - 1}u);
  let qo = (b * ${H}u + h) * ${D}u;
  ${vec.decl("rq", (d) => `Q[qo + ${d}] * ${f32(scale)}`)}
  ${vec.decl("ra", () => "0.0")}
  var m = -3.0e38; var l = 0.0;
  for (var u = lid; u <= last; u += ${NT}u) {
    let jo = (b * ${TK}u + u) * ${KV * D}u + kvh * ${D}u;
    ${vec.dot("sc", "rq", "K", "jo")}
    let mn = max(m, sc);
    let c = exp(m - mn); let p = exp(sc - mn);
    l = l * c + p; m = mn;
    ${vec.each((r, d) => `${r("ra")} = fma(p, V[jo + ${d}], ${r("ra")} * c);`)}
  }
  Ms[lid] = m;
  workgroupBarrier();
  var mAll = -3.0e38;
  for (var t = 0u; t < ${NT}u; t++) { mAll = max(mAll, Ms[t]); }
  let c = exp(m - mAll);
  Ls[lid] = l * c;
  ${vec.each((r, d) => `As[lid * ${D}u + ${d}] = ${r("ra")} * c;`)}
  workgroupBarrier();
  var lAll = 0.0;
  for (var t = 0u; t < ${NT}u; t++) { lAll += Ls[t]; }
  for (var d = lid; d < ${D}u; d += ${NT}u) {
    var acc = 0.0;
    for (var t = 0u; t < ${NT}u; t++) { acc += As[t * ${D}u + d]; }
    O[qo + d] = acc / lAll;
  }
}`;
  return {
    kernel: buildKernel(`attention_decode_${JSON.stringify(s)}`, [
      { name: "Q", kind: "read" },
      { name: "K", kind: "read" },
      { name: "V", kind: "read" },
      { name: "lengths", kind: "read", type: "i32" },
      { name: "O", kind: "rw" },
    ], code),
    groups: [1, H, batch],
  };
}
