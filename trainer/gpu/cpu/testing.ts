/**
 * Helpers for kernel tests: seeded random arrays, central finite differences and tolerant comparison. Shared by
 * the CPU tests and by any backend's tests against the CPU oracle.
 *
 * @module
 */

// Internals that benchmarks and tests outside this package drive directly.
export { CpuEngine } from "./engine.ts";
export { type KernelExports, kernelModule, MR, NR } from "./simd.ts";
export { rope } from "./kernels.ts";
export { fmaIssueRate } from "./issue_rate.ts";

import { createRng } from "../../../core/random/mod.ts";
import type { Backend, Tensor } from "../backend.ts";

/** `n` seeded standard-normal samples times `scale`. */
export function randn(seed: number, n: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextNormal() * scale;
  return a;
}

/** `n` seeded integers in `[0, max)`. */
export function randInt(seed: number, n: number, max: number): Int32Array {
  const rng = createRng(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextInt(max);
  return a;
}

/** `sum_i a[i] * b[i]` in double precision. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Central finite differences of `loss` with respect to the entries `indices` of `x` (all when omitted),
 * perturbing `x` in place and restoring it.
 */
export function numericGrad(
  loss: () => number,
  x: Float32Array,
  indices?: readonly number[],
  eps = 1e-2,
): Map<number, number> {
  const out = new Map<number, number>();
  const which = indices ?? Array.from({ length: x.length }, (_, i) => i);
  for (const i of which) {
    const saved = x[i];
    x[i] = saved + eps;
    const up = loss();
    x[i] = saved - eps;
    const down = loss();
    x[i] = saved;
    out.set(i, (up - down) / (2 * eps));
  }
  return out;
}

/** Throws unless `|actual - expected| <= atol + rtol * |expected|` for every listed entry. */
export function assertGradClose(
  what: string,
  analytic: ArrayLike<number>,
  numeric: Map<number, number>,
  atol = 2e-3,
  rtol = 2e-2,
): void {
  for (const [i, n] of numeric) {
    const a = analytic[i];
    if (!(Math.abs(a - n) <= atol + rtol * Math.abs(n))) {
      throw new Error(`${what}[${i}]: analytic ${a} vs numeric ${n}`);
    }
  }
}

/** Throws unless the arrays have the same length and agree within `atol + rtol * |expected|`. */
export function assertAllClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} vs ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
      throw new Error(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

/** A few spread-out indices of an array of length `n` (first, last and `count - 2` in between). */
export function sampleIndices(n: number, count: number, seed = 1): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  const set = new Set<number>([0, n - 1]);
  while (set.size < count) set.add(rng.nextInt(n));
  return [...set];
}

/** A new tensor on `backend` holding `values` (element type i32 for an `Int32Array`, f32 otherwise). */
export function uploaded(backend: Backend, values: Float32Array | Int32Array): Tensor {
  const tensor = backend.alloc(values.length, values instanceof Int32Array ? "i32" : "f32");
  backend.upload(tensor, values);
  return tensor;
}
