import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import type { Backend, Tensor } from "../backend.ts";
import { createCpuBackend } from "../cpu/mod.ts";
import { assertAllClose, randInt, randn } from "../cpu/testing.ts";
import { createWebGpuBackend, type WebGpuBackend } from "./mod.ts";
import { noGpu, testGpu } from "./testing.ts";

const cpu = createCpuBackend();
const gpu: WebGpuBackend | null = testGpu
  ? await createWebGpuBackend({ context: testGpu, lmHeadChunkRows: 64 })
  : null;

type Host = Float32Array | Int32Array;

/**
 * Uploads `inputs` to both backends, runs `op` on each, and compares the tensors named in `outputs` (which are
 * also inputs, so accumulating ops start from the same values).
 */
async function compare(
  inputs: Record<string, Host>,
  outputs: string[],
  op: (be: Backend, t: Record<string, Tensor>) => void,
  tol = { atol: 1e-5, rtol: 1e-4 },
): Promise<void> {
  const results: Record<string, Host>[] = [];
  for (const be of [cpu, gpu!]) {
    const t: Record<string, Tensor> = {};
    for (const [name, data] of Object.entries(inputs)) {
      t[name] = be.alloc(data.length, data instanceof Int32Array ? "i32" : "f32");
      be.upload(t[name], data);
    }
    op(be, t);
    const out: Record<string, Host> = {};
    for (const name of outputs) {
      out[name] = t[name].dtype === "i32" ? await be.downloadInt(t[name]) : await be.download(t[name]);
    }
    for (const x of Object.values(t)) be.free(x);
    results.push(out);
  }
  for (const name of outputs) assertAllClose(name, results[1][name], results[0][name], tol.atol, tol.rtol);
}

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name: `webgpu vs cpu: ${name}`, ignore: noGpu, fn });
}

test("fill, copy, scale, addInto", async () => {
  const n = 1000;
  await compare(
    { a: randn(1, n), b: randn(2, n), c: randn(3, n), z: randn(4, n) },
    ["a", "b", "c", "z"],
    (be, t) => {
      be.fill(t.a, 0.25);
      be.copy(t.b, t.c);
      be.scale(t.b, -1.5);
      be.addInto(t.c, t.b, 0.5);
      be.addInto(t.c, t.a);
      be.fill(t.z, 0);
    },
  );
});

test("sumSquares, fresh and accumulated", async () => {
  await compare({ x: randn(5, 70001), y: randn(6, 70001), s: new Float32Array(2) }, ["s"], (be, t) => {
    be.sumSquares(t.x, t.s);
    be.sumSquares(t.y, be.view(t.s, 0, 1), true);
  });
});

for (
  const s of [
    { m: 70, n: 33, k: 19 },
    { m: 130, n: 128, k: 16, transA: true, transB: true, alpha: 0.5, beta: 1 },
  ]
) {
  test(`matmul ${JSON.stringify(s)}`, async () => {
    await compare(
      { a: randn(6, s.m * s.k), b: randn(7, s.k * s.n), out: randn(8, s.m * s.n) },
      ["out"],
      (be, t) => {
        be.matmul({ ...s, a: t.a, b: t.b, out: t.out });
      },
    );
  });
}

test("matmul with operands that are views of one allocation", async () => {
  const [m, n, k] = [9, 7, 5];
  await compare({ buf: randn(9, 64 * 3) }, ["buf"], (be, t) => {
    be.matmul({
      a: be.view(t.buf, 0, m * k),
      b: be.view(t.buf, 64, k * n),
      out: be.view(t.buf, 128, m * n),
      m,
      n,
      k,
    });
  });
});

test("embedding forward and backward (repeated tokens)", async () => {
  const [vocab, dim, rows] = [11, 10, 70];
  await compare(
    { tokens: randInt(10, rows, vocab), table: randn(11, vocab * dim), out: randn(12, rows * dim) },
    ["out"],
    (be, t) => be.embeddingForward({ tokens: t.tokens, table: t.table, out: t.out, rows, dim }),
  );
  await compare(
    { tokens: randInt(13, rows, vocab), dOut: randn(14, rows * dim), dTable: randn(15, vocab * dim) },
    ["dTable"],
    (be, t) => be.embeddingBackward({ tokens: t.tokens, dOut: t.dOut, dTable: t.dTable, rows, dim }),
  );
});

test("rmsNorm forward and backward", async () => {
  const [rows, dim] = [70, 300];
  const inputs = {
    x: randn(16, rows * dim),
    w: randn(17, dim),
    out: new Float32Array(rows * dim),
    rstd: new Float32Array(rows),
    dOut: randn(18, rows * dim),
    dx: randn(19, rows * dim),
    dw: randn(20, dim),
  };
  await compare(inputs, ["out", "rstd", "dx", "dw"], (be, t) => {
    be.rmsNormForward({ x: t.x, weight: t.w, out: t.out, rstd: t.rstd, rows, dim, eps: 1e-6 });
    be.rmsNormBackward({
      x: t.x,
      weight: t.w,
      rstd: t.rstd,
      dOut: t.dOut,
      dx: t.dx,
      dWeight: t.dw,
      rows,
      dim,
    });
  });
});

test("rope forward and inverse, positions inside and beyond the table", async () => {
  const [rows, heads, headDim] = [7, 3, 10];
  const positions = new Int32Array([0, 1, 5, 100, 4095, 4096, 5000]);
  await compare({ x: randn(21, rows * heads * headDim), positions }, ["x"], (be, t) => {
    be.rope({ x: t.x, positions: t.positions, rows, heads, headDim, theta: 10000 });
  }, { atol: 1e-4, rtol: 1e-3 });
  await compare({ x: randn(22, rows * heads * headDim), positions }, ["x"], (be, t) => {
    be.rope({ x: t.x, positions: t.positions, rows, heads, headDim, theta: 1e6, inverse: true });
  }, { atol: 1e-4, rtol: 1e-3 });
});

{
  const shape = { batch: 2, seqLen: 67, heads: 6, kvHeads: 2, headDim: 6 };
  test(`attention forward and backward ${JSON.stringify(shape)}`, async () => {
    const { batch: B, seqLen: T, heads: H, kvHeads: KV, headDim: D } = shape;
    const inputs = {
      q: randn(23, B * T * H * D),
      k: randn(24, B * T * KV * D),
      v: randn(25, B * T * KV * D),
      out: new Float32Array(B * T * H * D),
      lse: new Float32Array(B * H * T),
      dOut: randn(26, B * T * H * D),
      dq: randn(27, B * T * H * D),
      dk: randn(28, B * T * KV * D),
      dv: randn(29, B * T * KV * D),
    };
    await compare(
      inputs,
      ["out", "lse", "dq", "dk", "dv"],
      (be, t) => {
        be.attentionForward({ q: t.q, k: t.k, v: t.v, out: t.out, lse: t.lse, ...shape });
        be.attentionBackward({
          q: t.q,
          k: t.k,
          v: t.v,
          out: t.out,
          lse: t.lse,
          dOut: t.dOut,
          dq: t.dq,
          dk: t.dk,
          dv: t.dv,
          ...shape,
        });
      },
    );
  });
}

// Chunked prefill (3 new rows) and decoding (1 new row, the split-key kernel).
for (const Q of [3, 1]) {
  test(`kvCacheWrite and attentionCached, ${Q} new rows`, async () => {
    const [B, C, H, KV, D] = [2, 75, 6, 2, 6];
    const W = KV * D;
    const lengths = new Int32Array([5, 70]);
    const inputs = {
      q: randn(30, B * Q * H * D),
      kNew: randn(31, B * Q * W),
      vNew: randn(32, B * Q * W),
      kCache: randn(33, B * C * W),
      vCache: randn(34, B * C * W),
      lengths,
      out: new Float32Array(B * Q * H * D),
    };
    await compare(inputs, ["kCache", "vCache", "out"], (be, t) => {
      const common = { lengths: t.lengths, batch: B, queryLen: Q, capacity: C, width: W };
      be.kvCacheWrite({ src: t.kNew, cache: t.kCache, ...common });
      be.kvCacheWrite({ src: t.vNew, cache: t.vCache, ...common });
      be.attentionCached({
        q: t.q,
        kCache: t.kCache,
        vCache: t.vCache,
        lengths: t.lengths,
        out: t.out,
        batch: B,
        queryLen: Q,
        capacity: C,
        heads: H,
        kvHeads: KV,
        headDim: D,
      });
    });
  });
}

test("swiglu forward and backward, bias add and bias gradient", async () => {
  const [rows, dim] = [70, 13];
  const n = rows * dim;
  const inputs = {
    gate: randn(35, n, 3),
    up: randn(36, n),
    out: new Float32Array(n),
    dOut: randn(37, n),
    dGate: randn(38, n),
    dUp: randn(39, n),
    bias: randn(40, dim),
    dBias: randn(41, dim),
  };
  await compare(inputs, ["out", "dGate", "dUp", "dBias"], (be, t) => {
    be.swigluForward({ gate: t.gate, up: t.up, out: t.out, length: n });
    be.swigluBackward({ gate: t.gate, up: t.up, dOut: t.dOut, dGate: t.dGate, dUp: t.dUp, length: n });
    be.addBias({ x: t.out, bias: t.bias, rows, dim });
    be.biasGrad({ dOut: t.dOut, dBias: t.dBias, rows, dim });
  });
});

test("gatherRows and scatterAddRows", async () => {
  const [srcRows, count, width] = [20, 6, 9];
  const indices = new Int32Array([3, 19, 0, 7, 11, 2]);
  await compare(
    {
      src: randn(42, srcRows * width),
      indices,
      out: randn(43, count * width),
      back: randn(44, srcRows * width),
    },
    ["out", "back"],
    (be, t) => {
      be.gatherRows({ src: t.src, indices: t.indices, out: t.out, count, width });
      be.scatterAddRows({ src: t.out, indices: t.indices, dst: t.back, count, width });
    },
  );
});

for (const rows of [70]) {
  test(`lmHead forward and backward, ${rows} rows`, async () => {
    const [dim, vocab] = [12, 50];
    const inputs = {
      hidden: randn(45, rows * dim),
      weight: randn(46, vocab * dim, 0.5),
      targets: randInt(47, rows, vocab),
      logprobs: new Float32Array(rows),
      entropies: new Float32Array(rows),
      lse: new Float32Array(rows),
      coeffs: randn(48, rows),
      dHidden: randn(49, rows * dim),
      dWeight: randn(50, vocab * dim),
    };
    await compare(inputs, ["logprobs", "entropies", "lse", "dHidden", "dWeight"], (be, t) => {
      const common = { hidden: t.hidden, weight: t.weight, targets: t.targets, lse: t.lse, rows, dim, vocab };
      be.lmHeadForward({ ...common, logprobs: t.logprobs, entropies: t.entropies });
      be.lmHeadBackward({ ...common, coeffs: t.coeffs, dHidden: t.dHidden, dWeight: t.dWeight });
    });
  });
}

test("adamw with gradient scaling", async () => {
  const n = 1000;
  const inputs = {
    p: randn(51, n),
    g: randn(52, n),
    m: randn(53, n, 0.1),
    v: randn(54, n, 0.1).map(Math.abs),
  };
  await compare(inputs, ["p", "m", "v"], (be, t) => {
    for (const step of [1, 2, 3]) {
      be.adamw({
        params: t.p,
        grads: t.g,
        m: t.m,
        v: t.v,
        lr: 1e-2,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0.1,
        step,
        gradScale: 0.5,
      });
    }
  });
});

Deno.test({
  name: "webgpu backend: bad input gives clear errors; views and frees are checked",
  ignore: noGpu,
  fn: async () => {
    const be = gpu!;
    const t = be.alloc(100);
    assertThrows(() => be.view(t, 3, 10), RangeError, "multiple of");
    assertThrows(() => be.view(t, 64, 100), RangeError, "outside");
    assertThrows(() => be.upload(t, new Int32Array(4)), TypeError);
    assertThrows(() => be.matmul({ a: t, b: t, out: t, m: 20, n: 20, k: 20 }), RangeError, "needs");
    assertThrows(() => cpu.scale(t, 2), TypeError);
    assertThrows(() => be.scale(cpu.alloc(4), 2), TypeError, "another backend");
    const v = be.view(t, 64, 36);
    assertThrows(() => be.free(v), Error, "view");
    be.upload(t, new Float32Array([1, 2, 3]), 64);
    assertEquals([...(await be.download(v)).subarray(0, 4)], [1, 2, 3, 0]);
    be.free(t);
    assertThrows(() => be.scale(v, 2), Error, "after free");
    await assertRejects(() => be.download(t), Error, "after free");
    assert(be.device.includes(testGpu!.info.description));
  },
});
