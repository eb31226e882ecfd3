/**
 * Test support: one shared WebGPU context for every test in the process (or `null` without an adapter), a
 * validation-error check, and a host-side reference matmul.
 *
 * @module
 */

import { acquireGpu, findAdapter, type GpuContext } from "./device.ts";

/** The shared test context, or `null` when this machine has no WebGPU adapter (tests then skip). */
export const testGpu: GpuContext | null = (await findAdapter()) ? await acquireGpu() : null;

/** `true` when GPU tests must be skipped; use as `Deno.test({ ignore: noGpu, ... })`. */
export const noGpu: boolean = testGpu === null;

/** Returns the shared test context; throws when there is none (guarded by `ignore: noGpu`). */
export function gpu(): GpuContext {
  if (!testGpu) throw new Error("no WebGPU adapter");
  return testGpu;
}

/** The shared test adapter's description, or `undefined` without an adapter. */
export function gpuInfo(): GpuContext["info"] | undefined {
  return testGpu?.info;
}

/** Runs `fn` inside a validation error scope and throws if the device reported a validation error. */
export async function withValidation<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  device.pushErrorScope("validation");
  const out = await fn();
  const err = await device.popErrorScope();
  if (err) throw new Error(`WebGPU validation error: ${err.message}`);
  return out;
}

/** Deterministic values in [-1, 1) from a seed (a small LCG; enough for test inputs). */
export function randomArray(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Host reference: `alpha * op(A) @ op(B) + beta * C` in f64, for one matrix, with the layouts of matmul.ts. */
export function referenceMatmul(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
): Float32Array {
  const out = new Float32Array(m * n);
  const alpha = opts.alpha ?? 1, beta = opts.beta ?? 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = opts.transA ? a[p * m + i] : a[i * k + p];
        const bv = opts.transB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]);
    }
  }
  return out;
}

/** Largest of |x - y| / (1 + |y|) over two arrays of equal length (throws on a length mismatch). */
export function maxRelErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`length mismatch: ${x.length} vs ${y.length}`);
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i]));
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d;
  }
  return e;
}
