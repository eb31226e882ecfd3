import { assertThrows } from "@std/assert";
import type { Tensor } from "../backend.ts";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { chunkRows } from "./lm_head.ts";
import {
  assertAllClose,
  assertGradClose,
  dot,
  numericGrad,
  randInt,
  randn,
  sampleIndices,
} from "./testing.ts";

const be = createCpuBackend();
const dim = 6;

function up(data: Float32Array | Int32Array): Tensor {
  const t = be.alloc(data.length, data instanceof Int32Array ? "i32" : "f32");
  be.upload(t, data);
  return t;
}

function forward(h: Float32Array, w: Float32Array, targets: Int32Array, vocab: number) {
  const rows = targets.length;
  const logprobs = be.alloc(rows), entropies = be.alloc(rows), lse = be.alloc(rows);
  be.lmHeadForward({
    hidden: up(h),
    weight: up(w),
    targets: up(targets),
    logprobs,
    entropies,
    lse,
    rows,
    dim,
    vocab,
  });
  return { logprobs: cpuF32(logprobs), entropies: cpuF32(entropies), lse };
}

// More rows than one chunk, so chunk boundaries are exercised (vocabularies whose chunks are 16 rows): one that is
// not a multiple of 4 (the softmax rows in TypeScript) and one that is (on the SIMD row kernels).
for (const [vocab, path] of [[4099, "TypeScript rows"], [4100, "SIMD rows"]] as const) {
  const rows = chunkRows(vocab) + 3;
  Deno.test(`lmHead: log-probabilities and entropies match a full log-softmax (${path})`, () => {
    const h = randn(1, rows * dim), w = randn(2, vocab * dim), targets = randInt(3, rows, vocab);
    const { logprobs, entropies } = forward(h, w, targets, vocab);
    for (const r of [0, rows - 1]) {
      const z = Array.from(
        { length: vocab },
        (_, v) => dot(h.subarray(r * dim, r * dim + dim), w.subarray(v * dim, v * dim + dim)),
      );
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((s, x) => s + Math.exp(x - mx), 0));
      const ent = -z.reduce((s, x) => s + Math.exp(x - lse) * (x - lse), 0);
      assertAllClose(`row ${r}`, [logprobs[r], entropies[r]], [z[targets[r]] - lse, ent]);
    }
  });

  Deno.test(`lmHead: backward with per-row coefficients matches finite differences (${path})`, () => {
    const h = randn(4, rows * dim), w = randn(5, vocab * dim), targets = randInt(6, rows, vocab);
    const coeffs = randn(7, rows);
    coeffs[2] = 0;
    const { lse } = forward(h, w, targets, vocab);
    const dHidden = be.alloc(rows * dim), dWeight = be.alloc(vocab * dim);
    be.fill(dWeight, 1); // accumulates
    be.lmHeadBackward({
      hidden: up(h),
      weight: up(w),
      targets: up(targets),
      lse,
      coeffs: up(coeffs),
      dHidden,
      dWeight,
      rows,
      dim,
      vocab,
    });
    const loss = () => dot(forward(h, w, targets, vocab).logprobs, coeffs);
    assertGradClose("dHidden", cpuF32(dHidden), numericGrad(loss, h, sampleIndices(h.length, 30)));
    assertGradClose(
      "dWeight",
      cpuF32(dWeight).map((x) => x - 1),
      numericGrad(loss, w, sampleIndices(w.length, 30)),
    );
  });
}

Deno.test("lmHead: a target outside the vocabulary is an error", () => {
  for (const vocab of [4099, 4100]) {
    const rows = chunkRows(vocab) + 3, targets = randInt(8, rows, vocab);
    targets[1] = vocab;
    assertThrows(() => forward(randn(9, rows * dim), randn(10, vocab * dim), targets, vocab), RangeError);
  }
});
