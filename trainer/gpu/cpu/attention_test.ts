import type { Tensor } from "../backend.ts";
import { QUERY_BLOCK } from "./attention.ts";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { assertAllClose, assertGradClose, dot, numericGrad, randn, sampleIndices } from "./testing.ts";

const be = createCpuBackend();
type Shape = { batch: number; seqLen: number; heads: number; kvHeads: number; headDim: number };
const shape: Shape = { batch: 2, seqLen: 5, heads: 4, kvHeads: 2, headDim: 4 };
const { batch: B, seqLen: T, heads: H, kvHeads: KV, headDim: D } = shape;
// More query rows than one block, so block boundaries are exercised.
const long: Shape = { batch: 1, seqLen: QUERY_BLOCK + 6, heads: 2, kvHeads: 1, headDim: 4 };

function up(data: Float32Array | Int32Array): Tensor {
  const t = be.alloc(data.length, data instanceof Int32Array ? "i32" : "f32");
  be.upload(t, data);
  return t;
}

function forward(q: Float32Array, k: Float32Array, v: Float32Array, s = shape) {
  const out = be.alloc(s.batch * s.seqLen * s.heads * s.headDim),
    lse = be.alloc(s.batch * s.heads * s.seqLen);
  be.attentionForward({ q: up(q), k: up(k), v: up(v), out, lse, ...s });
  return { out, lse };
}

// Plain softmax attention, one (b, h, t) at a time, in double precision.
function naive(q: Float32Array, k: Float32Array, v: Float32Array, s = shape): Float64Array {
  const { batch: B, seqLen: T, heads: H, kvHeads: KV, headDim: D } = s;
  const out = new Float64Array(B * T * H * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / KV));
      for (let t = 0; t < T; t++) {
        const s: number[] = [];
        for (let u = 0; u <= t; u++) {
          let d = 0;
          for (let i = 0; i < D; i++) {
            d += q[(b * T + t) * H * D + h * D + i] * k[(b * T + u) * KV * D + g * D + i];
          }
          s.push(d / Math.sqrt(D));
        }
        const mx = Math.max(...s);
        const e = s.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, c) => a + c, 0);
        for (let u = 0; u <= t; u++) {
          for (let i = 0; i < D; i++) {
            out[(b * T + t) * H * D + h * D + i] += (e[u] / z) * v[(b * T + u) * KV * D + g * D + i];
          }
        }
      }
    }
  }
  return out;
}

function sizes(s: Shape) {
  const rows = s.batch * s.seqLen;
  return { q: rows * s.heads * s.headDim, kv: rows * s.kvHeads * s.headDim };
}

Deno.test("attention: causal grouped-query forward matches a naive softmax", () => {
  for (const [i, s] of [shape, long].entries()) {
    const n = sizes(s);
    const q = randn(1 + i, n.q), k = randn(2 + i, n.kv), v = randn(3 + i, n.kv);
    assertAllClose(`out ${s.seqLen}`, cpuF32(forward(q, k, v, s).out), naive(q, k, v, s));
  }
});

Deno.test("attention: backward matches finite differences for q, k and v", () => {
  for (const [i, s] of [shape, long].entries()) {
    const n = sizes(s);
    const q = randn(4 + i, n.q), k = randn(5 + i, n.kv), v = randn(6 + i, n.kv), r = randn(7 + i, n.q);
    const { out, lse } = forward(q, k, v, s);
    const dq = be.alloc(q.length), dk = be.alloc(k.length), dv = be.alloc(v.length);
    be.attentionBackward({ q: up(q), k: up(k), v: up(v), out, lse, dOut: up(r), dq, dk, dv, ...s });
    const loss = () => dot(cpuF32(forward(q, k, v, s).out), r);
    // Include the last rows (second query block) of the long shape.
    const tail = (len: number) => [...sampleIndices(len, 20), len - 1, len - 2, len - 5];
    assertGradClose("dq", cpuF32(dq), numericGrad(loss, q, tail(q.length)));
    assertGradClose("dk", cpuF32(dk), numericGrad(loss, k, tail(k.length)));
    assertGradClose("dv", cpuF32(dv), numericGrad(loss, v, tail(v.length)));
  }
});

Deno.test("attention: KV-cache prefill then per-sequence steps equals full causal attention", () => {
  const q = randn(8, B * T * H * D), k = randn(9, B * T * KV * D), v = randn(10, B * T * KV * D);
  const full = cpuF32(forward(q, k, v).out);
  const capacity = T + 2, width = KV * D;
  const kCache = be.alloc(B * capacity * width), vCache = be.alloc(B * capacity * width);
  // Prefill 3 tokens per sequence, then one token at a time.
  const rowsOf = (src: Float32Array, stride: number, from: number, n: number) => {
    const o = new Float32Array(B * n * stride);
    for (let b = 0; b < B; b++) {
      o.set(src.subarray((b * T + from) * stride, (b * T + from + n) * stride), b * n * stride);
    }
    return o;
  };
  const step = (from: number, n: number) => {
    const lengths = up(new Int32Array(B).fill(from));
    be.kvCacheWrite({
      src: up(rowsOf(k, width, from, n)),
      cache: kCache,
      lengths,
      batch: B,
      queryLen: n,
      capacity,
      width,
    });
    be.kvCacheWrite({
      src: up(rowsOf(v, width, from, n)),
      cache: vCache,
      lengths,
      batch: B,
      queryLen: n,
      capacity,
      width,
    });
    const out = be.alloc(B * n * H * D);
    be.attentionCached({
      q: up(rowsOf(q, H * D, from, n)),
      kCache,
      vCache,
      lengths,
      out,
      batch: B,
      queryLen: n,
      capacity,
      heads: H,
      kvHeads: KV,
      headDim: D,
    });
    return cpuF32(out);
  };
  assertAllClose("prefill", step(0, 3), rowsOf(full, H * D, 0, 3));
  assertAllClose("step 3", step(3, 1), rowsOf(full, H * D, 3, 1));
  assertAllClose("step 4", step(4, 1), rowsOf(full, H * D, 4, 1));
});

Deno.test("attention: cached attention honours different lengths per sequence", () => {
  const capacity = 4, width = KV * D;
  const kc = randn(11, 2 * capacity * width), vc = randn(12, 2 * capacity * width);
  const q = randn(13, 2 * H * D);
  const out = be.alloc(2 * H * D);
  be.attentionCached({
    q: up(q),
    kCache: up(kc),
    vCache: up(vc),
    lengths: up(new Int32Array([0, 2])),
    out,
    batch: 2,
    queryLen: 1,
    capacity,
    heads: H,
    kvHeads: KV,
    headDim: D,
  });
  // Sequence 0 sees only slot 0: its output is v of slot 0 for each head's kv group.
  const o = cpuF32(out);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / 2);
    assertAllClose(`seq0 head ${h}`, o.subarray(h * D, h * D + D), vc.subarray(g * D, g * D + D));
  }
});
