import { assertEquals, assertThrows } from "@std/assert";
import type { Backend, DType, Tensor } from "./backend.ts";
import { check } from "./checks.ts";
import { createCpuBackend } from "./cpu/mod.ts";

// Every operation of the backend interface, with operands of exactly the lengths its sizes imply; the tests below
// shorten one operand at a time and expect the call to be refused, on the CPU backend (the WebGPU backend calls
// the same checks; its own tests run where an adapter exists).
const [rows, dim, vocab, batch, T, H, KV, D, cap, count] = [3, 4, 5, 2, 3, 2, 1, 4, 4, 2];

type Op = keyof typeof check;
type Call = (be: Backend, p: Record<string, unknown>) => void;

/** Valid tight parameters of each operation (tensor fields as [dtype, length]) and how to call it. */
const OPS: Record<
  string,
  { tensors: Record<string, [DType, number]>; sizes: Record<string, number>; call: Call }
> = {
  matmul: {
    tensors: { a: ["f32", rows * dim], b: ["f32", dim * vocab], out: ["f32", rows * vocab] },
    sizes: { m: rows, n: vocab, k: dim },
    call: (be, p) => be.matmul(p as never),
  },
  embeddingForward: {
    tensors: { tokens: ["i32", rows], table: ["f32", vocab * dim], out: ["f32", rows * dim] },
    sizes: { rows, dim },
    call: (be, p) => be.embeddingForward(p as never),
  },
  rmsNormForward: {
    tensors: { x: ["f32", rows * dim], weight: ["f32", dim], out: ["f32", rows * dim], rstd: ["f32", rows] },
    sizes: { rows, dim, eps: 1e-6 },
    call: (be, p) => be.rmsNormForward(p as never),
  },
  rmsNormBackward: {
    tensors: {
      x: ["f32", rows * dim],
      weight: ["f32", dim],
      rstd: ["f32", rows],
      dOut: ["f32", rows * dim],
      dx: ["f32", rows * dim],
      dWeight: ["f32", dim],
    },
    sizes: { rows, dim },
    call: (be, p) => be.rmsNormBackward(p as never),
  },
  rope: {
    tensors: { x: ["f32", rows * H * D], positions: ["i32", rows] },
    sizes: { rows, heads: H, headDim: D, theta: 10000 },
    call: (be, p) => be.rope(p as never),
  },
  attentionBackward: {
    tensors: {
      q: ["f32", batch * T * H * D],
      k: ["f32", batch * T * KV * D],
      v: ["f32", batch * T * KV * D],
      out: ["f32", batch * T * H * D],
      lse: ["f32", batch * H * T],
      dOut: ["f32", batch * T * H * D],
      dq: ["f32", batch * T * H * D],
      dk: ["f32", batch * T * KV * D],
      dv: ["f32", batch * T * KV * D],
    },
    sizes: { batch, seqLen: T, heads: H, kvHeads: KV, headDim: D },
    call: (be, p) => be.attentionBackward(p as never),
  },
  kvCacheWrite: {
    tensors: { src: ["f32", batch * KV * D], cache: ["f32", batch * cap * KV * D], lengths: ["i32", batch] },
    sizes: { batch, queryLen: 1, capacity: cap, width: KV * D },
    call: (be, p) => be.kvCacheWrite(p as never),
  },
  attentionCached: {
    tensors: {
      q: ["f32", batch * H * D],
      kCache: ["f32", batch * cap * KV * D],
      vCache: ["f32", batch * cap * KV * D],
      lengths: ["i32", batch],
      out: ["f32", batch * H * D],
    },
    sizes: { batch, queryLen: 1, capacity: cap, heads: H, kvHeads: KV, headDim: D },
    call: (be, p) => be.attentionCached(p as never),
  },
  swigluBackward: {
    tensors: {
      gate: ["f32", rows],
      up: ["f32", rows],
      dOut: ["f32", rows],
      dGate: ["f32", rows],
      dUp: ["f32", rows],
    },
    sizes: { length: rows },
    call: (be, p) => be.swigluBackward(p as never),
  },
  addBias: {
    tensors: { x: ["f32", rows * dim], bias: ["f32", dim] },
    sizes: { rows, dim },
    call: (be, p) => be.addBias(p as never),
  },
  biasGrad: {
    tensors: { dOut: ["f32", rows * dim], dBias: ["f32", dim] },
    sizes: { rows, dim },
    call: (be, p) => be.biasGrad(p as never),
  },
  gatherRows: {
    tensors: { src: ["f32", rows * dim], indices: ["i32", count], out: ["f32", count * dim] },
    sizes: { count, width: dim },
    call: (be, p) => be.gatherRows(p as never),
  },
  scatterAddRows: {
    tensors: { src: ["f32", count * dim], indices: ["i32", count], dst: ["f32", rows * dim] },
    sizes: { count, width: dim },
    call: (be, p) => be.scatterAddRows(p as never),
  },
  lmHeadBackward: {
    tensors: {
      hidden: ["f32", rows * dim],
      weight: ["f32", vocab * dim],
      targets: ["i32", rows],
      lse: ["f32", rows],
      coeffs: ["f32", rows],
      dHidden: ["f32", rows * dim],
      dWeight: ["f32", vocab * dim],
    },
    sizes: { rows, dim, vocab },
    call: (be, p) => be.lmHeadBackward(p as never),
  },
  adamw: {
    tensors: { params: ["f32", 7], grads: ["f32", 7], m: ["f32", 7], v: ["f32", 7] },
    sizes: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 },
    call: (be, p) => be.adamw(p as never),
  },
};

/** Operands whose length the sizes do not bound (a table of rows indexed by contents, the AdamW state's owner). */
const UNBOUNDED = new Set(["embeddingForward.table", "gatherRows.src", "scatterAddRows.dst", "adamw.params"]);

function params(be: Backend, op: string, short?: string): Record<string, unknown> {
  const { tensors, sizes } = OPS[op];
  const p: Record<string, unknown> = { ...sizes };
  for (const [name, [dtype, length]] of Object.entries(tensors)) {
    p[name] = be.alloc(name === short ? length - 1 : length, dtype);
  }
  return p;
}

Deno.test("checks: every operation runs with operands of exactly the implied lengths", () => {
  const be = createCpuBackend({ threads: 1 });
  for (const op of Object.keys(OPS)) OPS[op].call(be, params(be, op));
  be.destroy();
});

Deno.test("checks: one operand shorter than the sizes imply is refused, naming the operand", () => {
  const be = createCpuBackend({ threads: 1 });
  let refused = 0;
  for (const [op, { tensors, call }] of Object.entries(OPS)) {
    for (const name of Object.keys(tensors)) {
      if (UNBOUNDED.has(`${op}.${name}`)) continue;
      assertThrows(() => call(be, params(be, op, name)), RangeError, `${name} has`, `${op}.${name}`);
      refused++;
    }
  }
  assertEquals(refused > 50, true);
  be.destroy();
});

Deno.test("checks: sizes that are not non-negative integers, wrong element types, bad shapes", () => {
  const be = createCpuBackend({ threads: 1 });
  assertThrows(
    () => OPS.matmul.call(be, { ...params(be, "matmul"), k: 2.5 }),
    RangeError,
    "k must be an integer",
  );
  assertThrows(() => OPS.addBias.call(be, { ...params(be, "addBias"), rows: -1 }), RangeError, "rows");
  assertThrows(() => OPS.rope.call(be, { ...params(be, "rope"), headDim: 3 }), RangeError, "even");
  assertThrows(
    () => OPS.attentionBackward.call(be, { ...params(be, "attentionBackward"), heads: 3, kvHeads: 2 }),
    RangeError,
    "multiple of kvHeads",
  );
  assertThrows(
    () => OPS.gatherRows.call(be, { ...params(be, "gatherRows"), indices: be.alloc(count) }),
    TypeError,
    "indices must be i32",
  );
  assertThrows(() => OPS.adamw.call(be, { ...params(be, "adamw"), step: 0 }), RangeError, "step");
  assertThrows(() => OPS.adamw.call(be, { ...params(be, "adamw"), lr: NaN }), RangeError, "lr");
  assertThrows(() => be.addInto(be.alloc(3), be.alloc(4)), RangeError, "differ");
  assertThrows(() => be.copy(be.alloc(3, "i32"), be.alloc(3)), TypeError, "dst must be i32");
  be.destroy();
});

Deno.test("checks: the check functions work on any backend's tensors (length and dtype only)", () => {
  const t = (length: number, dtype: DType = "f32"): Tensor => ({ length, dtype });
  check.swigluForward({ gate: t(5), up: t(5), out: t(5), length: 5 });
  assertThrows(
    () => check.swigluForward({ gate: t(5), up: t(4), out: t(5), length: 5 }),
    RangeError,
    "up has 4",
  );
  const op: Op = "lmHeadForward";
  assertThrows(
    () =>
      check[op]({
        hidden: t(6),
        weight: t(10),
        targets: t(3, "i32"),
        logprobs: t(3),
        entropies: t(3),
        lse: t(2),
        rows: 3,
        dim: 2,
        vocab: 5,
      }),
    RangeError,
    "lse has 2",
  );
});
