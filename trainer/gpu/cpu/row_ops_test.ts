import { assertEquals } from "@std/assert";
import type { Backend } from "../backend.ts";
import * as k from "./kernels.ts";
import { cpuF32, createCpuBackend } from "./mod.ts";
import { assertAllClose, randInt, randn, uploaded } from "./testing.ts";

// The row kernels against the TypeScript references of kernels.ts: row counts that split unevenly across
// threads (1031 rows of 36 are past the threading threshold), a few rows, a width that is not a multiple of 4
// (TypeScript path), and 1 and 3 threads, which must agree bit for bit.

const SHAPES = [[1031, 36], [3, 8], [5, 6]] as const;

/** Runs `op` on a fresh 1-thread and 3-thread backend and returns both results. */
function onThreads(op: (be: Backend) => Float32Array[]): Float32Array[][] {
  return [1, 3].map((threads) => {
    const be = createCpuBackend({ threads });
    try {
      return op(be).map((a) => a.slice());
    } finally {
      be.destroy();
    }
  });
}

function assertSameOnThreads(what: string, results: Float32Array[][]): void {
  results[1].forEach((a, i) => assertEquals(a, results[0][i], `${what}: 1 vs 3 threads, output ${i}`));
}

Deno.test("cpu row kernels: RMSNorm forward and backward against the reference, 1 and 3 threads", () => {
  for (const [rows, dim] of SHAPES) {
    const x = randn(1, rows * dim),
      w = randn(2, dim),
      dOut = randn(3, rows * dim),
      dx0 = randn(4, rows * dim);
    const dw0 = randn(5, dim);
    const results = onThreads((be) => {
      const out = be.alloc(rows * dim), rstd = be.alloc(rows);
      const xt = uploaded(be, x), wt = uploaded(be, w);
      be.rmsNormForward({ x: xt, weight: wt, out, rstd, rows, dim, eps: 1e-6 });
      const dx = uploaded(be, dx0), dWeight = uploaded(be, dw0);
      be.rmsNormBackward({ x: xt, weight: wt, rstd, dOut: uploaded(be, dOut), dx, dWeight, rows, dim });
      return [cpuF32(out), cpuF32(rstd), cpuF32(dx), cpuF32(dWeight)];
    });
    const what = `rmsNorm ${rows}x${dim}`;
    assertSameOnThreads(what, results);
    const out = new Float32Array(rows * dim), rstd = new Float32Array(rows);
    k.rmsNormForward(x, w, out, rstd, rows, dim, 1e-6);
    const dx = dx0.slice(), dw = dw0.slice();
    k.rmsNormBackward(x, w, rstd, dOut, dx, dw, rows, dim);
    const [got] = results;
    assertAllClose(`${what} out`, got[0], out);
    assertAllClose(`${what} rstd`, got[1], rstd);
    assertAllClose(`${what} dx`, got[2], dx);
    assertAllClose(`${what} dWeight`, got[3], dw, 1e-4);
  }
});

Deno.test("cpu row kernels: bias add and bias gradient against the reference, 1 and 3 threads", () => {
  for (const [rows, dim] of SHAPES) {
    const x = randn(6, rows * dim), bias = randn(7, dim), db0 = randn(8, dim);
    const results = onThreads((be) => {
      const xt = uploaded(be, x), dBias = uploaded(be, db0);
      be.addBias({ x: xt, bias: uploaded(be, bias), rows, dim });
      be.biasGrad({ dOut: uploaded(be, x), dBias, rows, dim });
      return [cpuF32(xt), cpuF32(dBias)];
    });
    const what = `bias ${rows}x${dim}`;
    assertSameOnThreads(what, results);
    const added = x.slice(), db = db0.slice();
    k.addBias(added, bias, rows, dim);
    k.biasGrad(x, db, rows, dim);
    assertEquals(results[0][0], added, `${what}: addBias is exact`);
    assertAllClose(`${what} dBias`, results[0][1], db, 1e-4);
  }
});

Deno.test("cpu row kernels: rotary embedding and its inverse against the reference, 1 and 3 threads", () => {
  // [rows, heads, headDim]: heads of 16 and 32 on the kernel, of 6 (not a multiple of 8) on TypeScript.
  for (const [rows, heads, headDim] of [[517, 4, 16], [7, 3, 32], [9, 2, 6]] as const) {
    const n = rows * heads * headDim, x = randn(9, n);
    // Positions in any order, repeated, with gaps.
    const positions = randInt(10, rows, 300);
    for (const inverse of [false, true]) {
      const results = onThreads((be) => {
        const xt = uploaded(be, x);
        be.rope({ x: xt, positions: uploaded(be, positions), rows, heads, headDim, theta: 10000, inverse });
        return [cpuF32(xt)];
      });
      const what = `rope ${rows}x${heads}x${headDim} inverse=${inverse}`;
      assertSameOnThreads(what, results);
      const expected = x.slice();
      k.rope(expected, positions, rows, heads, headDim, 10000, inverse);
      assertAllClose(what, results[0][0], expected);
    }
  }
  const far = Int32Array.from([3, k.ROPE_TABLE_MAX + 5]), x = randn(11, 2 * 16);
  const be = createCpuBackend({ threads: 2 });
  try {
    const xt = uploaded(be, x);
    be.rope({ x: xt, positions: uploaded(be, far), rows: 2, heads: 1, headDim: 16, theta: 10000 });
    const expected = x.slice();
    k.rope(expected, far, 2, 1, 16, 10000, false);
    assertEquals(cpuF32(xt), expected, "a position past the table: the reference path");
  } finally {
    be.destroy();
  }
});
