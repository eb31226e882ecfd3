import { assert, assertEquals } from "@std/assert";
import type { Backend } from "../backend.ts";
import { CpuEngine } from "./engine.ts";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { assertAllClose, randn } from "./testing.ts";

// The engine keeps a matmul's packed B (a weight) between calls while nothing writes into B's allocation. These
// tests write into the allocation by every path the backend has and check that no stale packed copy is used.

/** out = A @ op(B) in float64. */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, transB: boolean) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

// m = 2 takes the kernel for fewer rows than a panel, m = 13 the full one.
const CASES = [[2, 19, 36, true], [13, 19, 36, true], [13, 21, 12, false]] as const;

Deno.test("cpu backend: a kept packed weight is dropped by every write into its allocation, 1 and 3 threads", () => {
  for (const threads of [1, 3]) {
    const be: Backend = createCpuBackend({ threads });
    try {
      for (const [m, n, k, transB] of CASES) {
        const what = `${m}x${n}x${k} transB=${transB} threads=${threads}`;
        // Two weights in one allocation (as the model's parameters are), B the second.
        const params = be.alloc(64 + n * k), other = be.view(params, 0, 64), w = be.view(params, 64, n * k);
        const a = be.alloc(m * k), out = be.alloc(m * n), src = be.alloc(n * k);
        be.upload(a, randn(1, m * k));
        let seed = 10;
        const product = () => {
          be.matmul({ a, b: w, out, m, n, k, transB });
          return cpuF32(out).slice();
        };
        const expect = (step: string) => {
          const want = reference(cpuF32(a), cpuF32(w).slice(), m, n, k, transB);
          // First sight, second (packs into the cache), third (reuses it): all the same, all right.
          const [x, y, z] = [product(), product(), product()];
          assertAllClose(`${what} after ${step}`, x, want, 1e-5, 1e-5);
          assertEquals(y, x, `${what} after ${step}: second call`);
          assertEquals(z, x, `${what} after ${step}: kept form`);
        };
        be.upload(w, randn(seed++, n * k));
        expect("upload");
        const writes: [string, () => void][] = [
          ["upload", () => be.upload(w, randn(seed++, n * k))],
          ["upload at an offset of the allocation", () => be.upload(params, randn(seed++, 7), 64 + 5)],
          ["fill", () => be.fill(w, 0.25)],
          ["copy", () => {
            be.upload(src, randn(seed++, n * k));
            be.copy(src, w);
          }],
          ["scale", () => be.scale(w, -1.5)],
          ["addInto", () => be.addInto(w, src, 0.5)],
          ["adamw", () => {
            const g = be.alloc(64 + n * k), mo = be.alloc(64 + n * k), v = be.alloc(64 + n * k);
            be.upload(g, randn(seed++, 64 + n * k));
            be.adamw({
              params,
              grads: g,
              m: mo,
              v,
              lr: 0.1,
              beta1: 0.9,
              beta2: 0.999,
              eps: 1e-8,
              weightDecay: 0.01,
              step: 1,
            });
            for (const t of [g, mo, v]) be.free(t);
          }],
          ["a matmul into it", () => {
            const x = be.alloc(n * 3), y = be.alloc(3 * k);
            be.upload(x, randn(seed++, n * 3));
            be.upload(y, randn(seed++, 3 * k));
            be.matmul({ a: x, b: y, out: w, m: n, n: k, k: 3 });
            for (const t of [x, y]) be.free(t);
          }],
          ["a write through cpuF32", () => {
            cpuF32(w)[3] += 1;
          }],
          ["a write into the other weight of the allocation", () => be.fill(other, 2)],
        ];
        for (const [step, write] of writes) {
          write();
          expect(step);
        }
        for (const t of [params, a, out, src]) be.free(t);
      }
    } finally {
      be.destroy();
    }
  }
});

Deno.test("engine: more kept weights than the cache holds stay right as it empties and refills", () => {
  const engine = CpuEngine.create(1)!;
  assert(engine, "Deno has WebAssembly SIMD");
  try {
    // 40 weights of 1 MiB each, three passes: more than the cache region, so it is emptied along the way.
    const [m, n, k] = [8, 512, 512];
    const a = randn(1, m * k);
    const weights = Array.from(
      { length: 40 },
      (_, i) => ({ b: randn(100 + i, n * k), key: { owner: {}, version: 0 } }),
    );
    const wants = weights.map(({ b }) => reference(a, b, m, n, k, true));
    const firsts: Float32Array[] = [];
    for (let pass = 0; pass < 3; pass++) {
      weights.forEach(({ b, key }, i) => {
        const out = new Float32Array(m * n);
        assert(engine.matmul(a, b, out, { m, n, k, transA: false, transB: true, alpha: 1, beta: 0 }, key));
        if (pass === 0) {
          assertAllClose(`weight ${i}`, out, wants[i], 1e-4, 1e-4);
          firsts.push(out);
        } else {
          assertEquals(out, firsts[i], `weight ${i} pass ${pass}`);
        }
      });
    }
  } finally {
    engine.destroy();
  }
});
