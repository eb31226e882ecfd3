import { assertEquals, assertThrows } from "@std/assert";
import type { Tensor } from "../backend.ts";
import { cpuF32, createCpuBackend } from "./mod.ts";
import * as k from "./kernels.ts";
import { assertAllClose, assertGradClose, dot, numericGrad, randn } from "./testing.ts";

const be = createCpuBackend();

function up(data: Float32Array | Int32Array): Tensor {
  const t = be.alloc(data.length, data instanceof Int32Array ? "i32" : "f32");
  be.upload(t, data);
  return t;
}

Deno.test("embedding: forward gathers rows, backward scatter-adds repeated tokens", () => {
  const [vocab, dim, rows] = [5, 3, 4];
  const table = randn(1, vocab * dim);
  const tokens = new Int32Array([2, 0, 2, 4]);
  const out = be.alloc(rows * dim);
  be.embeddingForward({ tokens: up(tokens), table: up(table), out, rows, dim });
  assertAllClose("row 0", cpuF32(out).subarray(0, dim), table.subarray(2 * dim, 3 * dim));
  const dOut = randn(2, rows * dim);
  const dTable = be.alloc(vocab * dim);
  be.fill(dTable, 1);
  be.embeddingBackward({ tokens: up(tokens), dOut: up(dOut), dTable, rows, dim });
  const g = cpuF32(dTable);
  assertAllClose(
    "token 2",
    g.subarray(2 * dim, 3 * dim),
    [0, 1, 2].map((c) => 1 + dOut[c] + dOut[2 * dim + c]),
  );
  assertAllClose("token 1 untouched", g.subarray(dim, 2 * dim), [1, 1, 1]);
  assertThrows(
    () => be.embeddingForward({ tokens: up(new Int32Array([5])), table: up(table), out, rows: 1, dim }),
    RangeError,
  );
});

Deno.test("rmsNorm: forward matches the formula; backward matches finite differences", () => {
  const [rows, dim, eps] = [3, 8, 1e-6];
  const x = randn(3, rows * dim), w = randn(4, dim), r = randn(5, rows * dim);
  const run = () => {
    const out = be.alloc(rows * dim), rstd = be.alloc(rows);
    be.rmsNormForward({ x: up(x), weight: up(w), out, rstd, rows, dim, eps });
    return { out: cpuF32(out), rstd };
  };
  const { out, rstd } = run();
  const ms = x.subarray(0, dim).reduce((s, v) => s + v * v, 0) / dim;
  assertAllClose("out[0]", [out[1]], [w[1] * x[1] / Math.sqrt(ms + eps)]);
  const dx = be.alloc(rows * dim), dw = be.alloc(dim);
  be.fill(dx, 0.5); // accumulates
  be.rmsNormBackward({ x: up(x), weight: up(w), rstd, dOut: up(r), dx, dWeight: dw, rows, dim });
  const loss = () => dot(run().out, r);
  assertGradClose("dx", cpuF32(dx).map((v) => v - 0.5), numericGrad(loss, x));
  assertGradClose("dw", cpuF32(dw), numericGrad(loss, w));
});

Deno.test("rope: rotate_half layout at a known position, inverse restores, backward is the inverse", () => {
  const [rows, heads, headDim, theta] = [2, 2, 4, 10000];
  const x = randn(6, rows * heads * headDim);
  const pos = new Int32Array([0, 3]);
  const t = up(x);
  be.rope({ x: t, positions: up(pos), rows, heads, headDim, theta });
  const y = cpuF32(t).slice();
  assertAllClose("position 0 is identity", y.subarray(0, heads * headDim), x.subarray(0, heads * headDim));
  // row 1, head 0, j = 1: frequency theta^(-2/4) = 0.01, angle 0.03
  const o = heads * headDim, a = 3 * 0.01;
  assertAllClose("j=1", [y[o + 1], y[o + 3]], [
    x[o + 1] * Math.cos(a) - x[o + 3] * Math.sin(a),
    x[o + 3] * Math.cos(a) + x[o + 1] * Math.sin(a),
  ]);
  be.rope({ x: t, positions: up(pos), rows, heads, headDim, theta, inverse: true });
  assertAllClose("inverse", cpuF32(t), x);
  const r = randn(7, x.length);
  const loss = () => {
    const u = up(x);
    be.rope({ x: u, positions: up(pos), rows, heads, headDim, theta });
    return dot(cpuF32(u), r);
  };
  const g = up(r);
  be.rope({ x: g, positions: up(pos), rows, heads, headDim, theta, inverse: true });
  assertGradClose("dx", cpuF32(g), numericGrad(loss, x));
});

Deno.test("swiglu: forward and backward match finite differences", () => {
  const n = 12;
  const gate = randn(8, n, 2), upv = randn(9, n), r = randn(10, n);
  const fwd = () => {
    const out = be.alloc(n);
    be.swigluForward({ gate: up(gate), up: up(upv), out, length: n });
    return cpuF32(out);
  };
  assertAllClose("silu", [fwd()[0]], [gate[0] / (1 + Math.exp(-gate[0])) * upv[0]]);
  const dGate = be.alloc(n), dUp = be.alloc(n);
  be.swigluBackward({ gate: up(gate), up: up(upv), dOut: up(r), dGate, dUp, length: n });
  const loss = () => dot(fwd(), r);
  assertGradClose("dGate", cpuF32(dGate), numericGrad(loss, gate));
  assertGradClose("dUp", cpuF32(dUp), numericGrad(loss, upv));
});

Deno.test("bias: add and gradient", () => {
  const x = up(new Float32Array([1, 2, 3, 4, 5, 6]));
  be.addBias({ x, bias: up(new Float32Array([10, 20, 30])), rows: 2, dim: 3 });
  assertAllClose("x", cpuF32(x), [11, 22, 33, 14, 25, 36]);
  const db = up(new Float32Array([1, 1, 1]));
  be.biasGrad({ dOut: up(new Float32Array([1, 2, 3, 4, 5, 6])), dBias: db, rows: 2, dim: 3 });
  assertAllClose("db", cpuF32(db), [6, 8, 10]);
});

Deno.test("gatherRows / scatterAddRows are each other's adjoint", () => {
  const src = randn(11, 5 * 3);
  const idx = up(new Int32Array([4, 1]));
  const out = be.alloc(2 * 3);
  be.gatherRows({ src: up(src), indices: idx, out, count: 2, width: 3 });
  assertAllClose("gathered", cpuF32(out), [...src.subarray(12, 15), ...src.subarray(3, 6)]);
  const dst = be.alloc(5 * 3);
  be.scatterAddRows({ src: out, indices: idx, dst, count: 2, width: 3 });
  const d = cpuF32(dst);
  assertAllClose("row 4", d.subarray(12, 15), src.subarray(12, 15));
  assertAllClose("row 0 untouched", d.subarray(0, 3), [0, 0, 0]);
});

Deno.test("elementwise: fill, copy, scale, addInto, sumSquares, views alias their allocation", () => {
  const a = be.alloc(128);
  be.fill(a, 2);
  const v = be.view(a, 64, 64);
  be.scale(v, 3);
  const b = be.alloc(128);
  be.copy(a, b);
  be.addInto(b, a, -0.5);
  const s = be.alloc(1);
  be.sumSquares(v, s);
  be.sumSquares(v, s, true);
  assertEquals(cpuF32(b)[0], 1);
  assertEquals(cpuF32(b)[100], 3);
  assertEquals(cpuF32(s)[0], 2 * 64 * 36);
  assertThrows(() => be.view(a, 3, 4), RangeError);
  assertThrows(() => be.free(v), Error);
  be.free(a);
  assertThrows(() => be.scale(v, 1), Error);
});

Deno.test("adamw: one step matches the PyTorch formula, with weight decay and grad scale", () => {
  const p = up(new Float32Array([1, -2])), g = up(new Float32Array([0.5, 4]));
  const m = be.alloc(2), v = be.alloc(2);
  const h = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 1, gradScale: 0.5 };
  be.adamw({ params: p, grads: g, m, v, ...h });
  // step 1: m_hat = g', v_hat = g'^2, update = lr * sign(g') (up to eps)
  const expect = [1 * (1 - 0.01) - 0.1, -2 * (1 - 0.01) - 0.1];
  assertAllClose("params", cpuF32(p), expect, 1e-6);
  assertAllClose("m", cpuF32(m), [0.1 * 0.25, 0.1 * 2]);
  assertThrows(() => be.adamw({ params: p, grads: g, m, v, ...h, step: 0 }), RangeError);
});

Deno.test("tensors from the wrong dtype are rejected", () => {
  const t = be.alloc(4, "i32");
  assertThrows(() => be.upload(t, new Float32Array(4)), TypeError);
  assertThrows(() => be.fill(t, 1), TypeError);
});

Deno.test("rope: the cached angle table gives the same rotation as computing each row's angles", () => {
  const [heads, D, theta] = [3, 10, 10000];
  const positions = new Int32Array([0, 5, 70000, 63, 64, 200000, 1, 5]);
  const rows = positions.length;
  const x = randn(4, rows * heads * D);
  const got = x.slice();
  k.rope(got, positions, rows, heads, D, theta, false);
  const invFreq = k.ropeInvFreq(D, theta);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < D / 2; j++) {
        const angle = Math.fround(positions[r] * invFreq[j]);
        const [c, s] = [Math.fround(Math.cos(angle)), Math.fround(Math.sin(angle))];
        const o = (r * heads + h) * D;
        const [x1, x2] = [x[o + j], x[o + j + D / 2]];
        assertEquals(got[o + j], Math.fround(x1 * c - x2 * s));
        assertEquals(got[o + j + D / 2], Math.fround(x2 * c + x1 * s));
      }
    }
  }
});
