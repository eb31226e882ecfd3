import { assert, assertEquals, assertMatch } from "@std/assert";
import * as att from "./attention.ts";
import { CpuEngine, type MatmulShape } from "./engine.ts";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { IDLE_MS } from "./pool.ts";
import { assertAllClose, randn, uploaded } from "./testing.ts";

function reference(a: Float32Array, b: Float32Array, c: Float32Array, s: MatmulShape): Float64Array {
  const { m, n, k, transA, transB, alpha, beta } = s;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      out[i * n + j] = alpha * sum + beta * c[i * n + j];
    }
  }
  return out;
}

// Shapes that are not multiples of the 5 x 8 micro-tile, of the 60 x 128 task tile or of the 256-step reduction
// block, most large enough (> 8 MFLOP) for the work to be split across threads; m < 5 takes the kernels that
// compute fewer rows than a panel.
const SHAPES = [
  [1, 1, 1],
  [5, 7, 9],
  [67, 131, 300],
  [130, 77, 513],
  [257, 190, 129],
  [3, 300, 700],
  [1, 130, 64],
  [1, 77, 515],
  [2, 53, 302],
  [4, 70, 530],
  [5, 4001, 260],
  [200, 150, 300],
];

Deno.test("engine: blocked SIMD matmul matches the float64 reference on odd shapes, 1 and 3 threads agree exactly", () => {
  const one = CpuEngine.create(1)!, three = CpuEngine.create(3)!;
  assert(one && three, "Deno has WebAssembly SIMD and shared memory");
  try {
    let seed = 1;
    for (const [m, n, k] of SHAPES) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const [alpha, beta] of m * n * k > 1e6 ? [[2, -0.5]] : [[1, 0], [0.5, 1], [2, -0.5]]) {
            const s = { m, n, k, transA, transB, alpha, beta };
            const a = randn(seed++, m * k), b = randn(seed++, k * n), c = randn(seed++, m * n);
            const want = reference(a, b, c, s);
            const got1 = c.slice(), got3 = c.slice();
            assert(one.matmul(a, b, got1, s));
            assert(three.matmul(a, b, got3, s));
            const what = `${m}x${n}x${k} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`;
            assertAllClose(what, got1, want, 1e-4, 1e-4);
            // Each output's reduction runs in the same order however the tiles are spread over threads.
            assertEquals(got3, got1, what);
          }
        }
      }
    }
  } finally {
    one.destroy();
    three.destroy();
  }
});

Deno.test("engine: a row's product does not depend on how many rows share the call (batch invariance)", () => {
  const e = CpuEngine.create(2)!;
  try {
    let seed = 100;
    for (const [n, k] of [[190, 64], [37, 300], [8, 1]]) {
      for (const transB of [false, true]) {
        const s = { n, k, transA: false, transB, alpha: 1, beta: 0 };
        const a = randn(seed++, 23 * k), b = randn(seed++, k * n);
        const whole = new Float32Array(23 * n);
        assert(e.matmul(a, b, whole, { ...s, m: 23 }));
        for (const m of [1, 2, 3, 4, 5, 6, 9, 11]) {
          const part = new Float32Array(m * n);
          assert(e.matmul(a.subarray(0, m * k), b, part, { ...s, m }));
          assertEquals(part, whole.subarray(0, m * n), `${m} of 23 rows, ${n}x${k} transB=${transB}`);
        }
      }
    }
  } finally {
    e.destroy();
  }
});

Deno.test("engine: beta 0 ignores NaN in the output; k 0 scales the output by beta", () => {
  const e = CpuEngine.create(2)!;
  try {
    const out = new Float32Array(6).fill(NaN);
    e.matmul(randn(1, 6), randn(2, 9), out, {
      m: 2,
      n: 3,
      k: 3,
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0,
    });
    assert(out.every(Number.isFinite));
    const c = new Float32Array([1, 2, 3, 4]);
    e.matmul(new Float32Array(0), new Float32Array(0), c, {
      m: 2,
      n: 2,
      k: 0,
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0.5,
    });
    assertEquals([...c], [0.5, 1, 1.5, 2]);
  } finally {
    e.destroy();
  }
});

Deno.test("cpu backend: reports threads and instruction set; no worker is left after destroy", () => {
  const be = createCpuBackend({ threads: 3 });
  assertEquals(be.threads, 3);
  assertMatch(be.device, /^cpu \(WebAssembly SIMD128( \+ relaxed FMA)?, 3 threads\)$/);
  const [m, n, k] = [200, 200, 200];
  const a = be.alloc(m * k), b = be.alloc(k * n), out = be.alloc(m * n);
  be.upload(a, randn(1, m * k));
  be.upload(b, randn(2, k * n));
  be.matmul({ a, b, out, m, n, k, transB: true });
  assertEquals(be.liveWorkers, 2, "a parallel matmul starts the two workers");
  be.destroy();
  assertEquals(be.liveWorkers, 0);
  // The backend still computes after destroy, on the calling thread alone.
  be.matmul({ a, b, out, m, n, k, transB: true });
  assert(cpuF32(out).every(Number.isFinite));
  assertEquals(be.liveWorkers, 0);
});

Deno.test("cpu backend: idle workers exit by themselves (a program that never closes its backend still ends)", async () => {
  const be = createCpuBackend({ threads: 2 });
  const a = be.alloc(300 * 300), out = be.alloc(300 * 300);
  be.fill(a, 0.5);
  be.matmul({ a, b: a, out, m: 300, n: 300, k: 300 });
  assertEquals(be.liveWorkers, 1);
  const deadline = performance.now() + IDLE_MS + 5000;
  while (be.liveWorkers > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assertEquals(be.liveWorkers, 0);
  // A later parallel job spawns them again.
  be.matmul({ a, b: a, out, m: 300, n: 300, k: 300 });
  assertEquals(be.liveWorkers, 1);
  assertAllClose("300^3 of 0.5s", cpuF32(out).subarray(0, 5), [75, 75, 75, 75, 75]);
  be.destroy();
});

Deno.test("cpu backend: threads outside [1, 64] are rejected", () => {
  for (const threads of [0, 1.5, 65]) {
    let threw = false;
    try {
      createCpuBackend({ threads });
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, `threads ${threads}`);
  }
});

Deno.test("cpu backend: SIMD SwiGLU forward and backward match float64 formulas, odd lengths, 1 and 3 threads", () => {
  for (const threads of [1, 3]) {
    const be = createCpuBackend({ threads });
    for (const n of [1, 7, 140001]) {
      const gate = randn(1, n, 4), up = randn(2, n), dOut = randn(3, n);
      gate[0] = -100; // exp(-g) beyond f32 range: clamped, the result still ~0
      if (n > 1) gate[1] = 100;
      const t = (a: Float32Array) => uploaded(be, a);
      const out = be.alloc(n), dGate = be.alloc(n), dUp = be.alloc(n);
      be.swigluForward({ gate: t(gate), up: t(up), out, length: n });
      be.swigluBackward({ gate: t(gate), up: t(up), dOut: t(dOut), dGate, dUp, length: n });
      const want = { out: new Float64Array(n), dGate: new Float64Array(n), dUp: new Float64Array(n) };
      for (let i = 0; i < n; i++) {
        const g = gate[i], s = 1 / (1 + Math.exp(-g));
        want.out[i] = g * s * up[i];
        want.dUp[i] = dOut[i] * g * s;
        want.dGate[i] = dOut[i] * up[i] * s * (1 + g * (1 - s));
      }
      assertAllClose(`swiglu out n=${n} threads=${threads}`, cpuF32(out), want.out);
      assertAllClose(`swiglu dGate n=${n} threads=${threads}`, cpuF32(dGate), want.dGate);
      assertAllClose(`swiglu dUp n=${n} threads=${threads}`, cpuF32(dUp), want.dUp);
    }
    be.destroy();
  }
});

Deno.test("cpu backend: threaded attention forward and backward match the TypeScript reference on odd shapes", () => {
  for (const [batch, T, H, KV, D] of [[2, 67, 4, 2, 10], [1, 1, 2, 1, 8], [3, 130, 3, 3, 16]]) {
    const s = { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D };
    const nq = batch * T * H * D, nkv = batch * T * KV * D;
    const [q, k, v, dOut] = [randn(1, nq), randn(2, nkv), randn(3, nkv), randn(4, nq)];
    // The reference: attention.ts with plain TypeScript matmuls (no engine).
    const want = { out: new Float32Array(nq), lse: new Float32Array(batch * H * T) };
    att.attentionForward(q, k, v, want.out, want.lse, s, null);
    const wantD = { dq: new Float32Array(nq), dk: new Float32Array(nkv), dv: new Float32Array(nkv) };
    att.attentionBackward(q, k, v, want.out, want.lse, dOut, wantD.dq, wantD.dk, wantD.dv, s, null);
    for (const threads of [1, 3]) {
      const be = createCpuBackend({ threads });
      const t = (a: Float32Array) => uploaded(be, a);
      const [tq, tk, tv, tdo] = [t(q), t(k), t(v), t(dOut)];
      const out = be.alloc(nq), lse = be.alloc(batch * H * T);
      be.attentionForward({ q: tq, k: tk, v: tv, out, lse, ...s });
      const dq = be.alloc(nq), dk = be.alloc(nkv), dv = be.alloc(nkv);
      be.fill(dq, NaN); // overwritten, not accumulated
      be.attentionBackward({ q: tq, k: tk, v: tv, out, lse, dOut: tdo, dq, dk, dv, ...s });
      const what = `attention ${JSON.stringify(s)} threads=${threads}`;
      assertAllClose(`${what} out`, cpuF32(out), want.out);
      assertAllClose(`${what} lse`, cpuF32(lse), want.lse);
      assertAllClose(`${what} dq`, cpuF32(dq), wantD.dq, 1e-4);
      assertAllClose(`${what} dk`, cpuF32(dk), wantD.dk, 1e-4);
      assertAllClose(`${what} dv`, cpuF32(dv), wantD.dv, 1e-4);
      be.destroy();
    }
  }
});

Deno.test("cpu backend: SIMD cached attention matches the TypeScript reference, odd lengths, 1 and 3 threads", () => {
  const cases = [
    { batch: 3, queryLen: 2, capacity: 50, heads: 4, kvHeads: 2, headDim: 12, lengths: [0, 17, 48] },
    {
      batch: 8,
      queryLen: 1,
      capacity: 1200,
      heads: 4,
      kvHeads: 4,
      headDim: 36,
      lengths: [1000, 1, 1199, 0, 1100, 1050, 1150, 1180], // enough work for 3 threads
    },
    { batch: 2, queryLen: 3, capacity: 9, heads: 2, kvHeads: 1, headDim: 10, lengths: [2, 6] }, // headDim % 4: TS path
  ];
  for (const { lengths, ...s } of cases) {
    const width = s.kvHeads * s.headDim, nq = s.batch * s.queryLen * s.heads * s.headDim;
    const q = randn(1, nq),
      kc = randn(2, s.batch * s.capacity * width),
      vc = randn(3, s.batch * s.capacity * width);
    const lens = new Int32Array(lengths);
    const want = new Float32Array(nq);
    att.attentionCached(q, kc, vc, lens, want, s);
    for (const threads of [1, 3]) {
      const be = createCpuBackend({ threads });
      const t = (a: Float32Array | Int32Array) => uploaded(be, a);
      const out = be.alloc(nq);
      be.attentionCached({ q: t(q), kCache: t(kc), vCache: t(vc), lengths: t(lens), out, ...s });
      assertAllClose(`cached attention ${JSON.stringify(s)} threads=${threads}`, cpuF32(out), want);
      be.destroy();
    }
  }
});
