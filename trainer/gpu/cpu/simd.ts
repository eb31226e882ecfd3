/**
 * A WebAssembly SIMD (f32x4) matrix-multiply kernel, assembled here byte by byte (no toolchain, no files), for
 * the CPU backend's matmul: `out[m, n] += A[m, k] @ B[k, n]` on packed row-major operands in the module's
 * memory, four output columns per instruction and four reduction steps per pass. V8 does not vectorise TypeScript loops, so this runs several
 * times faster than the plain kernels of `matmul.ts`, which remain the fallback where WebAssembly SIMD is missing.
 *
 * @module
 */

// Opcodes used by the kernel (WebAssembly core + SIMD proposal).
const I32 = 0x7f, V128 = 0x7b;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I32_ADD = 0x6a, I32_MUL = 0x6c, I32_SHL = 0x74;
const I32_GE_U = 0x4f, BLOCK = 0x02, LOOP = 0x03, VOID = 0x40, BR = 0x0c, BR_IF = 0x0d, END = 0x0b;
const F32_LOAD = 0x2a, SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00], V128_STORE = [SIMD, 0x0b], F32X4_SPLAT = [SIMD, 0x13];
const F32X4_ADD = [SIMD, 0xe4, 0x01], F32X4_MUL = [SIMD, 0xe6, 0x01];

// Parameters and locals of gemm(a, b, o, m, n, k): byte pointers, then m, n, k in floats (n and k multiples of 4).
const A = 0, B = 1, O = 2, M = 3, N = 4, K = 5, Ii = 6, P = 7, J = 8, OROW = 9, NB = 10, APTR = 11;
const B0 = 12, B1 = 13, B2 = 14, B3 = 15, AV0 = 16, AV1 = 17, AV2 = 18, AV3 = 19;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function str(s: string): number[] {
  return [...uleb(s.length), ...new TextEncoder().encode(s)];
}

const get = (i: number) => [LOCAL_GET, i];
const set = (i: number) => [LOCAL_SET, i];
const inc = (i: number, by: number) => [...get(i), I32_CONST, ...uleb(by), I32_ADD, ...set(i)];

// for (local = 0; local < limit; local += step) { body }   (limit compared unsigned)
function forLoop(local: number, limit: number, step: number, body: number[]): number[] {
  return [
    I32_CONST,
    0,
    ...set(local),
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(local),
    ...get(limit),
    I32_GE_U,
    BR_IF,
    1,
    ...body,
    ...inc(local, step),
    BR,
    0,
    END,
    END,
  ];
}

function kernelBody(): number[] {
  const load = (base: number) => [...get(base), ...get(J), I32_ADD, ...V128_LOAD, 0, 0];
  const term = (av: number, base: number) => [...get(av), ...load(base), ...F32X4_MUL];
  // j runs over bytes of the row (16 per step):
  // out[orow + j] += (av0 * b0[j] + av1 * b1[j]) + (av2 * b2[j] + av3 * b3[j])
  const inner = [
    ...get(OROW),
    ...get(J),
    I32_ADD,
    ...load(OROW),
    ...term(AV0, B0),
    ...term(AV1, B1),
    ...F32X4_ADD,
    ...term(AV2, B2),
    ...term(AV3, B3),
    ...F32X4_ADD,
    ...F32X4_ADD,
    ...F32X4_ADD,
    ...V128_STORE,
    0,
    0,
  ];
  // Four reduction steps p..p+3 per pass: av_q = splat(a[aptr + 4p + 4q]), b_q = b + (p + q) * nb.
  const splat = (q: number, av: number) => [
    ...get(APTR),
    ...get(P),
    I32_CONST,
    2,
    I32_SHL,
    I32_ADD,
    F32_LOAD,
    2,
    4 * q,
    ...F32X4_SPLAT,
    ...set(av),
  ];
  const overP = [
    ...splat(0, AV0),
    ...splat(1, AV1),
    ...splat(2, AV2),
    ...splat(3, AV3),
    ...get(B),
    ...get(P),
    ...get(NB),
    I32_MUL,
    I32_ADD,
    ...set(B0),
    ...get(B0),
    ...get(NB),
    I32_ADD,
    ...set(B1),
    ...get(B1),
    ...get(NB),
    I32_ADD,
    ...set(B2),
    ...get(B2),
    ...get(NB),
    I32_ADD,
    ...set(B3),
    ...forLoop(J, NB, 16, inner),
  ];
  const overI = [
    // orow = o + i * nb; aptr = a + i * k * 4
    ...get(O),
    ...get(Ii),
    ...get(NB),
    I32_MUL,
    I32_ADD,
    ...set(OROW),
    ...get(A),
    ...get(Ii),
    ...get(K),
    I32_MUL,
    I32_CONST,
    2,
    I32_SHL,
    I32_ADD,
    ...set(APTR),
    ...forLoop(P, K, 4, overP),
  ];
  const code = [...get(N), I32_CONST, 2, I32_SHL, ...set(NB), ...forLoop(Ii, M, 1, overI), END];
  const locals = [2, 10, I32, 4, V128]; // i, p, j, orow, nb, aptr, b0..b3 | av0..av3
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0];
  const imports = [1, ...str("env"), ...str("mem"), 0x02, 0x00, 1];
  const funcs = [1, 0];
  const exports = [1, ...str("gemm"), 0x00, 0];
  const code = [1, ...kernelBody()];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

type Gemm = (a: number, b: number, o: number, m: number, n: number, k: number) => void;

interface SimdKernel {
  memory: WebAssembly.Memory;
  gemm: Gemm;
}

function instantiate(): SimdKernel | null {
  try {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), {
      env: { mem: memory },
    });
    return { memory, gemm: instance.exports.gemm as Gemm };
  } catch {
    return null; // no WebAssembly SIMD in this runtime
  }
}

const kernel = instantiate();

/** Whether the SIMD kernel is available in this runtime. */
export const simdAvailable: boolean = kernel !== null;

/**
 * `out[m, n] += alpha * op(A) @ op(B)` through the SIMD kernel: operands are packed (transposed where needed,
 * `n` and `k` zero-padded to multiples of 4) into the module's memory, multiplied, and the result copied back.
 * Returns false (doing nothing) when the kernel is unavailable or the operands do not fit its memory.
 */
export function matmulSimd(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  alpha: number,
): boolean {
  if (!kernel) return false;
  const n4 = Math.ceil(n / 4) * 4, k4 = Math.ceil(k / 4) * 4;
  const floats = m * k4 + k4 * n4 + m * n4;
  const have = kernel.memory.buffer.byteLength;
  if (floats * 4 > have) {
    try {
      kernel.memory.grow(Math.ceil((floats * 4 - have) / 65536));
    } catch {
      return false; // beyond WebAssembly's 4 GiB memory: the caller falls back to the scalar kernel
    }
  }
  const mem = new Float32Array(kernel.memory.buffer);
  const aOff = 0, bOff = m * k4, oOff = bOff + k4 * n4;
  // A as [m, k4], scaled by alpha, zero-padded.
  if (!transA && alpha === 1 && k4 === k) mem.set(a.subarray(0, m * k), aOff);
  else {
    for (let i = 0; i < m; i++) {
      const row = aOff + i * k4;
      for (let p = 0; p < k; p++) mem[row + p] = alpha * (transA ? a[p * m + i] : a[i * k + p]);
      for (let p = k; p < k4; p++) mem[row + p] = 0;
    }
  }
  // B as [k4, n4], zero-padded.
  if (!transB && n4 === n) mem.set(b.subarray(0, k * n), bOff);
  else {
    for (let p = 0; p < k; p++) {
      const row = bOff + p * n4;
      if (transB) { for (let j = 0; j < n; j++) mem[row + j] = b[j * k + p]; }
      else mem.set(b.subarray(p * n, p * n + n), row);
      for (let j = n; j < n4; j++) mem[row + j] = 0;
    }
  }
  mem.fill(0, bOff + k * n4, bOff + k4 * n4);
  // out as [m, n4].
  if (n4 === n) mem.set(out.subarray(0, m * n), oOff);
  else for (let i = 0; i < m; i++) mem.set(out.subarray(i * n, i * n + n), oOff + i * n4);
  kernel.gemm(aOff * 4, bOff * 4, oOff * 4, m, n4, k4);
  if (n4 === n) out.set(mem.subarray(oOff, oOff + m * n));
  else for (let i = 0; i < m; i++) out.set(mem.subarray(oOff + i * n4, oOff + i * n4 + n), i * n);
  return true;
}
