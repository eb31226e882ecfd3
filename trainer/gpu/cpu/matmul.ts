/**
 * CPU matrix multiply on Float32Array: `out = alpha * op(A) @ op(B) + beta * out` with either operand
 * transposed, read in its stored layout. Loops are ordered so the innermost one runs over contiguous memory and
 * is register-blocked (two output rows, four reduction steps); a transposed B is fed through a small packed panel.
 * Where WebAssembly SIMD exists (Deno, browsers), `matmulF32` hands the product to the blocked SIMD kernels of
 * `engine.ts`; these loops are the fallback and a second reference for tests.
 *
 * @module
 */

import { CpuEngine, type MatmulShape, type OperandKey } from "./engine.ts";

export type { MatmulShape, OperandKey };

let defaultEngine: CpuEngine | null | undefined;

/**
 * Computes `out[m, n] = alpha * op(a) @ op(b) + beta * out` on host arrays with the WebAssembly SIMD kernels of
 * `engine` (default: a one-thread engine shared by all callers), or with {@linkcode matmulF32Scalar} where the
 * runtime lacks WebAssembly SIMD (`engine` null) or the operands exceed WebAssembly memory. `bKey` identifies B's
 * contents (see {@linkcode OperandKey}) so that the engine may reuse its packed form.
 */
export function matmulF32(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  s: MatmulShape,
  engine?: CpuEngine | null,
  bKey?: OperandKey,
): void {
  checkOperands(a, b, out, s);
  if (engine === undefined) {
    if (defaultEngine === undefined) defaultEngine = CpuEngine.create(1);
    engine = defaultEngine;
  }
  if (engine && engine.matmul(a, b, out, s, bKey)) return;
  matmulScalar(a, b, out, s);
}

/** {@linkcode matmulF32} in plain TypeScript loops only: the fallback, and a second reference for tests. */
export function matmulF32Scalar(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulShape): void {
  checkOperands(a, b, out, s);
  matmulScalar(a, b, out, s);
}

function checkOperands(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulShape): void {
  const { m, n, k } = s;
  if (a.length < m * k || b.length < k * n || out.length < m * n) {
    throw new RangeError(
      `matmul: operands too small for m=${m} n=${n} k=${k} (a ${a.length}, b ${b.length}, out ${out.length})`,
    );
  }
}

function matmulScalar(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulShape): void {
  const { m, n, k, transA, transB, alpha, beta } = s;
  if (beta === 0) out.fill(0, 0, m * n);
  else if (beta !== 1) { for (let i = 0; i < m * n; i++) out[i] *= beta; }
  if (!transA && !transB) matmulXN(a, b, out, m, n, k, alpha, k, 1, n, 0);
  else if (transA && !transB) matmulXN(a, b, out, m, n, k, alpha, 1, m, n, 0);
  else if (!transA && transB) matmulNT(a, b, out, m, n, k, alpha);
  else matmulTT(a, b, out, m, n, k, alpha);
}

// out[i, off:off+n] += alpha * sum_p A(i,p) * B[p,:] with A(i,p) = a[i*si + p*sp] (NN: si=k, sp=1; TN: si=1,
// sp=m), B rows of length n, and output rows of stride `os` (n unless writing a column block).
// Two output rows and four values of p per pass: each B load feeds two multiply-adds, each output load/store four.
function matmulXN(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  alpha: number,
  si: number,
  sp: number,
  os: number,
  off: number,
): void {
  const k4 = k - (k % 4);
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const o0 = i * os + off, o1 = o0 + os;
    const r0 = i * si, r1 = r0 + si;
    let p = 0;
    for (; p < k4; p += 4) {
      const x0 = alpha * a[r0 + p * sp], x1 = alpha * a[r0 + (p + 1) * sp];
      const x2 = alpha * a[r0 + (p + 2) * sp], x3 = alpha * a[r0 + (p + 3) * sp];
      const y0 = alpha * a[r1 + p * sp], y1 = alpha * a[r1 + (p + 1) * sp];
      const y2 = alpha * a[r1 + (p + 2) * sp], y3 = alpha * a[r1 + (p + 3) * sp];
      const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        const v0 = b[b0 + j], v1 = b[b1 + j], v2 = b[b2 + j], v3 = b[b3 + j];
        out[o0 + j] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
        out[o1 + j] += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
      }
    }
    for (; p < k; p++) {
      const x = alpha * a[r0 + p * sp], y = alpha * a[r1 + p * sp];
      const bRow = p * n;
      for (let j = 0; j < n; j++) {
        const v = b[bRow + j];
        out[o0 + j] += x * v;
        out[o1 + j] += y * v;
      }
    }
  }
  for (; i < m; i++) {
    const o0 = i * os + off, r0 = i * si;
    for (let p = 0; p < k; p++) {
      const x = alpha * a[r0 + p * sp];
      const bRow = p * n;
      for (let j = 0; j < n; j++) out[o0 + j] += x * b[bRow + j];
    }
  }
}

/** Columns of `op(B)` packed per block by the transposed-B variant (bounds its scratch to `k * NT_BLOCK`). */
const NT_BLOCK = 256;

// A [m,k], B stored [n,k]: out[i,j] += alpha * dot(A[i,:], B[j,:]). Dot products over short rows run slowly in
// V8, so blocks of NT_BLOCK rows of B are transposed into a scratch panel and fed to the row-update kernel.
function matmulNT(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  alpha: number,
): void {
  const panel = new Float32Array(k * Math.min(NT_BLOCK, n));
  for (let j0 = 0; j0 < n; j0 += NT_BLOCK) {
    const nb = Math.min(NT_BLOCK, n - j0);
    for (let j = 0; j < nb; j++) {
      const row = (j0 + j) * k;
      for (let p = 0; p < k; p++) panel[p * nb + j] = b[row + p];
    }
    matmulXN(a, panel, out, m, nb, k, alpha, k, 1, n, j0);
  }
}

// A stored [k,m], B stored [n,k]: out[i,j] += sum_p A[p,i] * B[j,p]
function matmulTT(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  alpha: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
      out[i * n + j] += alpha * s;
    }
  }
}
