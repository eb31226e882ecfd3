import { assert, assertThrows } from "@std/assert";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { matmulF32, matmulF32Scalar } from "./matmul.ts";
import { simdAvailable } from "./simd.ts";
import { assertAllClose, randn } from "./testing.ts";

function naive(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  alpha: number,
  beta: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      out[i * n + j] = alpha * s + beta * c[i * n + j];
    }
  }
  return out;
}

Deno.test("matmul: all transposition variants with alpha and beta match a naive product", () => {
  const be = createCpuBackend();
  const [m, n, k] = [5, 7, 9];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const [alpha, beta] of [[1, 0], [0.5, 1], [2, -0.5]]) {
        const a = randn(1, m * k), b = randn(2, k * n), c = randn(3, m * n);
        const ta = be.alloc(m * k), tb = be.alloc(k * n), tc = be.alloc(m * n);
        be.upload(ta, a);
        be.upload(tb, b);
        be.upload(tc, c);
        be.matmul({ a: ta, b: tb, out: tc, m, n, k, transA, transB, alpha, beta });
        assertAllClose(
          `matmul ${transA} ${transB} ${alpha} ${beta}`,
          cpuF32(tc),
          naive(a, b, c, m, n, k, transA, transB, alpha, beta),
        );
      }
    }
  }
});

Deno.test("matmul: SIMD and scalar kernels agree with the naive product on odd shapes", () => {
  assert(simdAvailable, "Deno has WebAssembly SIMD: the fast kernel must load");
  // Odd m and n (row blocking and column padding remainders), and n > 256 (two packed panels of transposed B).
  for (const [m, n, k] of [[5, 7, 9], [6, 8, 3], [3, 300, 5], [1, 1, 1]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = randn(4, m * k), b = randn(5, k * n), c = randn(6, m * n);
        const want = naive(a, b, c, m, n, k, transA, transB, 1.5, 1);
        for (const [name, f] of [["simd", matmulF32], ["scalar", matmulF32Scalar]] as const) {
          const out = c.slice();
          f(a, b, out, { m, n, k, transA, transB, alpha: 1.5, beta: 1 });
          assertAllClose(`${name} ${m}x${n}x${k} ${transA} ${transB}`, out, want);
        }
      }
    }
  }
});

Deno.test("matmul: beta 0 ignores NaN in the output; too-small operands are rejected", () => {
  const be = createCpuBackend();
  const a = be.alloc(4), b = be.alloc(4), c = be.alloc(4);
  be.upload(a, new Float32Array([1, 2, 3, 4]));
  be.upload(b, new Float32Array([1, 0, 0, 1]));
  be.fill(c, NaN);
  be.matmul({ a, b, out: c, m: 2, n: 2, k: 2 });
  assertAllClose("identity", cpuF32(c), [1, 2, 3, 4]);
  assertThrows(() => be.matmul({ a, b, out: c, m: 3, n: 2, k: 2 }), RangeError);
});
