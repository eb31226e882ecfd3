/**
 * Matmul kernel generator: `C = alpha * op(A) @ op(B) + beta * C`, batched, with transposed-operand variants.
 *
 * Shapes are baked into the WGSL as constants. Two kernels:
 * - tiled: by default a 128x128 output tile per workgroup of 256 threads, BK = 16, each thread holding 8x8
 *   outputs in 16 named `vec4f` accumulators (the tiling is a parameter: {@linkcode TileConfig}) with the inner loop unrolled at generation time (no dynamically indexed
 *   function-scope arrays, which wgpu keeps off-chip on NVIDIA). vec4 global loads where the contiguous dimension
 *   allows, and bounds checks only for the dimensions that do not fit the tile.
 * - gemv: for small M (decoding), each workgroup reduces over K for a few output columns with all M rows held in
 *   registers, so every element of B is read once.
 *
 * op(A) is `[M, K]`: A is stored `[M, K]`, or `[K, M]` when `transA`. op(B) is `[K, N]`: B is stored `[K, N]`, or
 * `[N, K]` when `transB` (a PyTorch-style `Linear` weight). C is `[M, N]`. With `batch > 1` the operands are
 * `batch` contiguous matrices each.
 *
 * @module
 */

import type { Groups } from "./commands.ts";
import type { MatmulParams } from "../backend.ts";
import type { Kernel } from "./pipelines.ts";
import { assertDims, f32, u32 } from "./wgsl.ts";

/** The problem a matmul kernel is specialised for: the backend's matmul shape and scales, without tensors. */
export interface MatmulSpec extends Omit<MatmulParams, "a" | "b" | "out"> {
  /** Number of independent matrices (default 1). */
  batch?: number;
  /** Force a kernel (default: `gemv` when m <= `gemvMaxM`, else `tiled`). */
  variant?: "tiled" | "gemv";
  /** Register tiling of the tiled kernel (default {@linkcode TILE_LARGE}). */
  tile?: TileConfig;
  /** Largest M that takes the gemv kernel by default (default {@linkcode GEMV_MAX_M}). */
  gemvMaxM?: number;
}

/** Largest M for which the gemv kernel is chosen by default. */
export const GEMV_MAX_M = 16;

/** How the backend specialises matmuls for its adapter. */
export interface MatmulTuning {
  /** Tiling of the tiled kernel. */
  tile: TileConfig;
  /** Largest M that takes the gemv kernel. */
  gemvMaxM: number;
}

/**
 * The tuning for an adapter: the large tile and gemv up to M = 16 on GPUs; the small tile and gemv only for
 * M = 1 on software adapters, where LLVM's compile time grows steeply with the registers a kernel holds.
 */
export function matmulTuningFor(info: { isFallbackAdapter: boolean }): MatmulTuning {
  return info.isFallbackAdapter
    ? { tile: TILE_SMALL, gemvMaxM: 1 }
    : { tile: TILE_LARGE, gemvMaxM: GEMV_MAX_M };
}

/** A kernel with its dispatch size. */
export interface Dispatchable {
  /** The kernel; bindings are A (read), B (read), C (read-write). */
  kernel: Kernel;
  /** Workgroup counts. */
  groups: Groups;
}

/** Generates the matmul kernel for `spec` (bindings: A, B, C) and its workgroup counts. */
export function matmulKernel(spec: MatmulSpec): Dispatchable {
  const { m, n, k } = spec;
  const batch = spec.batch ?? 1;
  assertDims("matmul", { m, n, k, batch });
  const variant = spec.variant ?? (m <= (spec.gemvMaxM ?? GEMV_MAX_M) ? "gemv" : "tiled");
  if (variant === "gemv" && m > GEMV_MAX_M) {
    throw new RangeError(`gemv matmul supports m <= ${GEMV_MAX_M}, got ${m}`);
  }
  return variant === "gemv" ? gemv(spec, batch) : tiled(spec, batch, spec.tile ?? TILE_LARGE);
}

function header(spec: MatmulSpec, aVec: boolean, bVec: boolean, cVec: boolean): string {
  const t = (v: boolean) => (v ? "vec4f" : "f32");
  return `
@group(0) @binding(0) var<storage, read> A: array<${t(aVec)}>;
@group(0) @binding(1) var<storage, read> B: array<${t(bVec)}>;
@group(0) @binding(2) var<storage, read_write> C: array<${t(cVec)}>;
const M = ${u32(spec.m)}; const N = ${u32(spec.n)}; const K = ${u32(spec.k)};`;
}

/** `alpha * acc + beta * old` with the trivial factors folded away. */
function epilogue(acc: string, old: string, alpha: number, beta: number): string {
  const a = alpha === 1 ? acc : `${f32(alpha)} * ${acc}`;
  return beta === 0 ? a : beta === 1 ? `${a} + ${old}` : `${a} + ${f32(beta)} * ${old}`;
}

function and(conds: string[]): string {
  return conds.length ? conds.join(" && ") : "true";
}

/**
 * The register tiling of the tiled kernel: `threadsM x threadsN` threads per workgroup, each computing
 * `perThreadM x perThreadN` outputs (multiples of 4, held as named `vec4f`s), over K steps of `bk`.
 */
export interface TileConfig {
  /** Threads along M. */
  threadsM: number;
  /** Threads along N. */
  threadsN: number;
  /** Output rows per thread (a multiple of 4). */
  perThreadM: number;
  /** Output columns per thread (a multiple of 4). */
  perThreadN: number;
  /** K per workgroup step (a multiple of 4). */
  bk: number;
}

/** The GPU tiling: a 128x128 tile per workgroup of 256 threads, 8x8 outputs per thread, BK = 16. */
export const TILE_LARGE: TileConfig = { threadsM: 16, threadsN: 16, perThreadM: 8, perThreadN: 8, bk: 16 };

/**
 * A 32x32 tile of 64 threads with 4x4 outputs per thread, BK = 8: for software adapters (llvmpipe), where the
 * large kernel takes tens of seconds of CPU to compile and small tiles waste less work on ragged shapes.
 */
export const TILE_SMALL: TileConfig = { threadsM: 8, threadsN: 8, perThreadM: 4, perThreadN: 4, bk: 8 };

function checkTile(c: TileConfig): void {
  const threads = c.threadsM * c.threadsN;
  const ok = c.perThreadM % 4 === 0 && c.perThreadN % 4 === 0 && c.bk % 4 === 0 &&
    (c.threadsM * c.perThreadM * c.bk / 4) % threads === 0 &&
    (c.threadsN * c.perThreadN * c.bk / 4) % threads === 0;
  if (!ok) throw new RangeError(`matmul: unsupported tile config ${JSON.stringify(c)}`);
}

function tiled(spec: MatmulSpec, batch: number, cfg: TileConfig): Dispatchable {
  checkTile(cfg);
  const { m: M, n: N, k: K } = spec;
  const { threadsM: TR, threadsN: TC, perThreadM: TM, perThreadN: TN, bk: BK } = cfg;
  const T = TR * TC, BM = TR * TM, BN = TC * TN;
  const transA = !!spec.transA, transB = !!spec.transB;
  const alpha = spec.alpha ?? 1, beta = spec.beta ?? 0;
  const aVec = (transA ? M : K) % 4 === 0;
  const bVec = (transB ? K : N) % 4 === 0;
  const cVec = N % 4 === 0;
  const fitM = M % BM === 0, fitN = N % BN === 0, fitK = K % BK === 0;

  // Tile loads: each thread moves `loads` groups of 4 elements of A and of B per K step.
  const loadA: string[] = [];
  const loadB: string[] = [];
  for (
    const [which, kRows, vec, dimRow, out, B4] of [
      ["A", transA, aVec, "M", loadA, BM / 4],
      ["B", !transB, bVec, "N", loadB, BN / 4],
    ] as const
  ) {
    // `kRows`: stored with K as the row dimension (A^T stored [K, M], or B stored [K, N]).
    const sh = which === "A" ? "As" : "Bs";
    const base = which === "A" ? "aBase" : "bBase";
    const rowOrigin = which === "A" ? "row0" : "col0";
    const fitRow = which === "A" ? fitM : fitN;
    const loads = (B4 * BK) / T;
    for (let r = 0; r < loads; r++) {
      const idx = `(tid + ${r * T}u)`;
      if (kRows) {
        // stored [K, R]: BK k-rows x B4 vec4 along R per tile
        const conds = fitK ? [] : [`gk < K`];
        out.push(`{ let gk = k0 + ${idx} / ${B4}u; let gr = ${rowOrigin} + (${idx} % ${B4}u) * 4u;`);
        if (vec) {
          const c = and([...conds, ...(fitRow ? [] : [`gr < ${dimRow}`])]);
          const ld = `${which}[(${base} + gk * ${dimRow} + gr) / 4u]`;
          out.push(c === "true" ? `  let v = ${ld};` : `  var v = vec4f(0.0); if (${c}) { v = ${ld}; }`);
        } else {
          out.push(`  var v = vec4f(0.0);`);
          for (let j = 0; j < 4; j++) {
            const c = and([...conds, `gr + ${j}u < ${dimRow}`]);
            out.push(`  if (${c}) { v[${j}] = ${which}[${base} + gk * ${dimRow} + gr + ${j}u]; }`);
          }
        }
        out.push(`  ${sh}[${idx}] = v; }`);
      } else {
        // stored [R, K]: B4 * 4 rows x BK / 4 vec4 along K per tile, scattered into the [k][r] tile
        const conds = fitRow ? [] : [`gr < ${dimRow}`];
        out.push(
          `{ let rr = ${idx} / ${BK / 4}u; let kq = ${idx} % ${BK / 4}u; ` +
            `let gr = ${rowOrigin} + rr; let gk = k0 + kq * 4u;`,
        );
        if (vec) {
          const c = and([...conds, ...(fitK ? [] : [`gk < K`])]);
          const ld = `${which}[(${base} + gr * K + gk) / 4u]`;
          out.push(c === "true" ? `  let v = ${ld};` : `  var v = vec4f(0.0); if (${c}) { v = ${ld}; }`);
        } else {
          out.push(`  var v = vec4f(0.0);`);
          for (let j = 0; j < 4; j++) {
            const c = and([...conds, `gk + ${j}u < K`]);
            out.push(`  if (${c}) { v[${j}] = ${which}[${base} + gr * K + gk + ${j}u]; }`);
          }
        }
        for (let j = 0; j < 4; j++) {
          out.push(`  ${sh}[(kq * 4u + ${j}u) * ${B4}u + rr / 4u][rr % 4u] = v.${"xyzw"[j]};`);
        }
        out.push(`}`);
      }
    }
  }

  const GM = TM / 4, GN = TN / 4;
  const acc: string[] = [];
  for (let i = 0; i < TM; i++) for (let h = 0; h < GN; h++) acc.push(`var c${i}_${h} = vec4f(0.0);`);
  const body: string[] = [];
  for (let kk = 0; kk < BK; kk++) {
    const as = Array.from({ length: GM }, (_, g) => `let a${g} = As[${kk * BM / 4 + g * TR}u + tr];`);
    const bs = Array.from({ length: GN }, (_, h) => `let b${h} = Bs[${kk * BN / 4 + h * TC}u + tc];`);
    body.push(`{ ${as.join(" ")} ${bs.join(" ")}`);
    for (let i = 0; i < TM; i++) {
      const a = `vec4f(a${Math.floor(i / 4)}.${"xyzw"[i % 4]})`;
      body.push(
        `  ${Array.from({ length: GN }, (_, h) => `c${i}_${h} = fma(${a}, b${h}, c${i}_${h});`).join(" ")}`,
      );
    }
    body.push(`}`);
  }

  const out: string[] = [];
  for (let i = 0; i < TM; i++) {
    out.push(`{ let r = row0 + (${Math.floor(i / 4) * TR}u + tr) * 4u + ${i % 4}u;`);
    for (let h = 0; h < GN; h++) {
      const col = `col0 + (${h * TC}u + tc) * 4u`;
      const v = `c${i}_${h}`;
      if (cVec) {
        const c = and([...(fitM ? [] : [`r < M`]), ...(fitN ? [] : [`${col} < N`])]);
        const at = `C[(cBase + r * N + ${col}) / 4u]`;
        const st = `${at} = ${epilogue(v, at, alpha, beta)};`;
        out.push(c === "true" ? `  ${st}` : `  if (${c}) { ${st} }`);
      } else {
        for (let q = 0; q < 4; q++) {
          const cc = `${col} + ${q}u`;
          const c = and([...(fitM ? [] : [`r < M`]), `${cc} < N`]);
          const at = `C[cBase + r * N + ${cc}]`;
          out.push(`  if (${c}) { ${at} = ${epilogue(`${v}.${"xyzw"[q]}`, at, alpha, beta)}; }`);
        }
      }
    }
    out.push(`}`);
  }

  const code = `${header(spec, aVec, bVec, cVec)}
var<workgroup> As: array<vec4f, ${BK * BM / 4}>; // [k][m / 4]
var<workgroup> Bs: array<vec4f, ${BK * BN / 4}>; // [k][n / 4]
@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row0 = wg.y * ${BM}u; let col0 = wg.x * ${BN}u;
  let aBase = wg.z * M * K; let bBase = wg.z * K * N; let cBase = wg.z * M * N;
  let tr = tid / ${TC}u; let tc = tid % ${TC}u;
  ${acc.join("\n  ")}
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
    ${loadA.join("\n    ")}
    ${loadB.join("\n    ")}
    workgroupBarrier();
    ${body.join("\n    ")}
    workgroupBarrier();
  }
  ${out.join("\n  ")}
}`;
  return {
    kernel: { name: `matmul_tiled${BM}x${BN}_${M}x${N}x${K}`, code, bindings: ["read", "read", "rw"] },
    groups: [Math.ceil(N / BN), Math.ceil(M / BM), batch],
  };
}

function gemv(spec: MatmulSpec, batch: number): Dispatchable {
  const { m: M, n: N, k: K } = spec;
  const transA = !!spec.transA, transB = !!spec.transB;
  const alpha = spec.alpha ?? 1, beta = spec.beta ?? 0;
  // transB: B rows are contiguous along K, so 32 lanes share a column and read consecutive k.
  // otherwise: consecutive threads take consecutive columns, 4 K-slices per workgroup.
  const cols = transB ? 8 : 64;
  const split = 256 / cols;
  const colOf = transB ? "tid / 32u" : "tid % 64u";
  const sliceOf = transB ? "tid % 32u" : "tid / 64u";
  const sliceStride = transB ? 1 : 64;
  const bAt = transB ? "B[bBase + n * K + k]" : "B[bBase + k * N + n]";
  const aAt = (r: number) => (transA ? `A[aBase + k * M + ${r}u]` : `A[aBase + ${r}u * K + k]`);
  const accs: string[] = [],
    fmas: string[] = [],
    stores: string[] = [],
    red: string[] = [],
    outs: string[] = [];
  for (let r = 0; r < M; r++) {
    accs.push(`var s${r} = 0.0;`);
    fmas.push(`s${r} = fma(${aAt(r)}, b, s${r});`);
    stores.push(`red[${r * 256}u + tid] = s${r};`);
    red.push(`red[${r * 256}u + tid] += red[${r * 256}u + tid + s * ${sliceStride}u];`);
    const at = `C[cBase + ${r}u * N + n]`;
    outs.push(`${at} = ${epilogue(`red[${r * 256}u + tid]`, at, alpha, beta)};`);
  }
  const code = `${header(spec, false, false, false)}
var<workgroup> red: array<f32, ${256 * M}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let n = wg.x * ${cols}u + ${colOf};
  let slice = ${sliceOf};
  let aBase = wg.z * M * K; let bBase = wg.z * K * N; let cBase = wg.z * M * N;
  ${accs.join(" ")}
  if (n < N) {
    for (var k = slice; k < K; k += ${split}u) {
      let b = ${bAt};
      ${fmas.join("\n      ")}
    }
  }
  ${stores.join(" ")}
  workgroupBarrier();
  for (var s = ${split / 2}u; s > 0u; s >>= 1u) {
    if (slice < s) {
      ${red.join("\n      ")}
    }
    workgroupBarrier();
  }
  if (slice == 0u && n < N) {
    ${outs.join("\n    ")}
  }
}`;
  return {
    kernel: { name: `matmul_gemv_${M}x${N}x${K}`, code, bindings: ["read", "read", "rw"] },
    groups: [Math.ceil(N / cols), 1, batch],
  };
}
