import { assertEquals } from "@std/assert";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { CpuEngine, ROWS_MAX_HEAD_DIM } from "./engine.ts";
import { assertAllClose, randn, uploaded } from "./testing.ts";

// The row kernels (heads of at most ROWS_MAX_HEAD_DIM, a multiple of 4) against attention in float64, on shapes
// that are not multiples of the kernels' four keys or sixteen columns per pass or of the 64-row query blocks, on
// 1 and 3 threads; and bit for bit against the blocked path, which is what keeps training results unchanged.

interface Shape {
  batch: number;
  seqLen: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** Causal attention and its gradients in float64, straight from the definitions. */
function reference(s: Shape, q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array) {
  const { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D } = s;
  const scale = 1 / Math.sqrt(D), group = H / KV;
  const out = new Float64Array(q.length), lse = new Float64Array(batch * H * T);
  const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
  const qi = (b: number, t: number, h: number) => ((b * T + t) * H + h) * D;
  const ki = (b: number, t: number, h: number) => ((b * T + t) * KV + Math.floor(h / group)) * D;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const scores = Array.from({ length: t + 1 }, (_, u) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qi(b, t, h) + d] * k[ki(b, u, h) + d];
          return dot * scale;
        });
        const max = Math.max(...scores);
        const sum = scores.reduce((a, x) => a + Math.exp(x - max), 0);
        lse[(b * H + h) * T + t] = max + Math.log(sum);
        const p = scores.map((x) => Math.exp(x - max) / sum);
        const dp = p.map((_, u) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += dOut[qi(b, t, h) + d] * v[ki(b, u, h) + d];
          return dot;
        });
        const delta = p.reduce((a, pu, u) => a + pu * dp[u], 0);
        for (let u = 0; u <= t; u++) {
          const ds = p[u] * (dp[u] - delta);
          for (let d = 0; d < D; d++) {
            out[qi(b, t, h) + d] += p[u] * v[ki(b, u, h) + d];
            dv[ki(b, u, h) + d] += p[u] * dOut[qi(b, t, h) + d];
            dq[qi(b, t, h) + d] += scale * ds * k[ki(b, u, h) + d];
            dk[ki(b, u, h) + d] += scale * ds * q[qi(b, t, h) + d];
          }
        }
      }
    }
  }
  return { out, lse, dq, dk, dv };
}

const SHAPES: Shape[] = [
  { batch: 3, seqLen: 37, heads: 6, kvHeads: 2, headDim: 12 },
  { batch: 2, seqLen: 21, heads: 3, kvHeads: 3, headDim: 8 },
  { batch: 1, seqLen: 1, heads: 2, kvHeads: 1, headDim: 4 },
  { batch: 5, seqLen: 70, heads: 4, kvHeads: 2, headDim: 16 }, // two query blocks; split over threads
  { batch: 1, seqLen: 133, heads: 2, kvHeads: 1, headDim: 16 }, // three query blocks
];

Deno.test("cpu backend: row-kernel attention forward and backward match float64 on odd shapes, 1 and 3 threads", () => {
  for (const s of SHAPES) {
    assertEquals(
      s.headDim % 4 === 0 && s.headDim <= ROWS_MAX_HEAD_DIM,
      true,
      "the shape takes the row kernels",
    );
    const nq = s.batch * s.seqLen * s.heads * s.headDim, nkv = s.batch * s.seqLen * s.kvHeads * s.headDim;
    const [q, k, v, dOut] = [randn(1, nq), randn(2, nkv), randn(3, nkv), randn(4, nq)];
    const want = reference(s, q, k, v, dOut);
    for (const threads of [1, 3]) {
      const be = createCpuBackend({ threads });
      const t = (a: Float32Array) => uploaded(be, a);
      const [tq, tk, tv, tdo] = [t(q), t(k), t(v), t(dOut)];
      const out = be.alloc(nq), lse = be.alloc(s.batch * s.heads * s.seqLen);
      be.attentionForward({ q: tq, k: tk, v: tv, out, lse, ...s });
      const dq = be.alloc(nq), dk = be.alloc(nkv), dv = be.alloc(nkv);
      for (const g of [dq, dk, dv]) be.fill(g, NaN); // overwritten, not accumulated
      be.attentionBackward({ q: tq, k: tk, v: tv, out, lse, dOut: tdo, dq, dk, dv, ...s });
      const what = `attention ${JSON.stringify(s)} threads=${threads}`;
      assertAllClose(`${what} out`, cpuF32(out), want.out, 1e-5);
      assertAllClose(`${what} lse`, cpuF32(lse), want.lse, 1e-5);
      assertAllClose(`${what} dq`, cpuF32(dq), want.dq, 1e-4);
      assertAllClose(`${what} dk`, cpuF32(dk), want.dk, 1e-4);
      assertAllClose(`${what} dv`, cpuF32(dv), want.dv, 1e-4);
      be.destroy();
    }
  }
});

Deno.test("cpu backend: row-kernel attention gives the blocked path's results bit for bit, 1 and 3 threads", () => {
  const blocked = CpuEngine.create(1, { rowKernels: false })!;
  for (const threads of [1, 3]) {
    const rows = CpuEngine.create(threads)!;
    for (const s of SHAPES) {
      const nq = s.batch * s.seqLen * s.heads * s.headDim, nkv = s.batch * s.seqLen * s.kvHeads * s.headDim;
      const [q, k, v, dOut] = [randn(11, nq), randn(12, nkv), randn(13, nkv), randn(14, nq)];
      const run = (e: CpuEngine) => {
        const r = {
          out: new Float32Array(nq),
          lse: new Float32Array(s.batch * s.heads * s.seqLen),
          dq: new Float32Array(nq),
          dk: new Float32Array(nkv),
          dv: new Float32Array(nkv),
        };
        e.attentionForward(q, k, v, r.out, r.lse, s);
        e.attentionBackward(q, k, v, r.out, r.lse, dOut, r.dq, r.dk, r.dv, s);
        return r;
      };
      assertEquals(run(rows), run(blocked), `${JSON.stringify(s)} threads=${threads}`);
    }
    rows.destroy();
  }
  blocked.destroy();
});

Deno.test("cpu backend: row-kernel cached attention matches float64 with ragged lengths, 1 and 3 threads", () => {
  const s = { batch: 4, queryLen: 3, capacity: 45, heads: 6, kvHeads: 3, headDim: 20 }; // any multiple of 4
  const lengths = new Int32Array([0, 13, 42, 5]);
  const width = s.kvHeads * s.headDim, nq = s.batch * s.queryLen * s.heads * s.headDim;
  const q = randn(5, nq),
    kc = randn(6, s.batch * s.capacity * width),
    vc = randn(7, s.batch * s.capacity * width);
  // Query (b, i) at position lengths[b] + i is the last row of a causal attention over the cached rows.
  const want = new Float64Array(nq);
  for (let b = 0; b < s.batch; b++) {
    const T = lengths[b] + s.queryLen;
    const shape = { batch: 1, seqLen: T, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim };
    const qFull = new Float32Array(T * s.heads * s.headDim);
    qFull.set(
      q.subarray(b * s.queryLen * s.heads * s.headDim, (b + 1) * s.queryLen * s.heads * s.headDim),
      lengths[b] * s.heads * s.headDim,
    );
    const kFull = kc.slice(b * s.capacity * width, b * s.capacity * width + T * width);
    const vFull = vc.slice(b * s.capacity * width, b * s.capacity * width + T * width);
    const full = reference(shape, qFull, kFull, vFull, new Float32Array(qFull.length));
    want.set(full.out.subarray(lengths[b] * s.heads * s.headDim), b * s.queryLen * s.heads * s.headDim);
  }
  for (const threads of [1, 3]) {
    const be = createCpuBackend({ threads });
    const t = (a: Float32Array | Int32Array) => uploaded(be, a);
    const out = be.alloc(nq);
    be.attentionCached({ q: t(q), kCache: t(kc), vCache: t(vc), lengths: t(lengths), out, ...s });
    assertAllClose(`cached attention threads=${threads}`, cpuF32(out), want, 1e-5);
    be.destroy();
  }
});
