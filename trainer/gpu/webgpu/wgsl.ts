/**
 * Small helpers for generating WGSL source text.
 *
 * @module
 */

import type { BindingKind, Kernel } from "./pipelines.ts";

/** Formats a finite number as a WGSL f32 literal (`1.0`, `0.5`, `1e-7`). Throws on NaN or infinity. */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot bake non-finite value ${x} into WGSL`);
  const s = String(x);
  return /[.e]/.test(s) ? `f32(${s})` : `f32(${s}.0)`;
}

/** Formats a non-negative integer as a WGSL u32 literal. Throws when it does not fit. */
export function u32(x: number): string {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`not a u32: ${x}`);
  return `${x}u`;
}

/** Throws a RangeError unless every value is a positive integer; `what` names them in the message. */
export function assertDims(what: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(`${what}: ${name} must be a positive integer, got ${v}`);
    }
  }
}

/** One resource a generated kernel binds (in binding order). */
export interface Param {
  /** WGSL variable name. */
  name: string;
  /** Read-only storage, read-write storage, or uniform. */
  kind: BindingKind;
  /** Storage element type (default `f32`) or, for a uniform, the struct type name. */
  type?: string;
}

/** Builds a kernel from its parameters (declared at `@group(0) @binding(i)` in order) and the rest of its WGSL. */
export function buildKernel(name: string, params: Param[], body: string): Kernel {
  const decls = params.map((p, i) => {
    const at = `@group(0) @binding(${i})`;
    if (p.kind === "uniform") return `${at} var<uniform> ${p.name}: ${p.type};`;
    const access = p.kind === "read" ? "read" : "read_write";
    return `${at} var<storage, ${access}> ${p.name}: array<${p.type ?? "f32"}>;`;
  });
  return { name, code: `${decls.join("\n")}\n${body}`, bindings: params.map((p) => p.kind) };
}

/** Most workgroups along one dispatch dimension that generated kernels use (WebGPU's guaranteed minimum). */
export const MAX_GROUPS = 65535;

/**
 * Spreads `count` workgroups over x and y (x at most {@linkcode MAX_GROUPS}); `id` is the WGSL expression of the
 * flat workgroup index given `wid: vec3u`.
 */
export function spreadGroups(count: number): { groups: [number, number]; id: string } {
  const x = Math.max(1, Math.min(count, MAX_GROUPS));
  const y = Math.max(1, Math.ceil(count / x));
  return { groups: [x, y], id: y === 1 ? "wid.x" : `(wid.y * ${x}u + wid.x)` };
}

/** The entry-point signature every generated kernel uses, with workgroup size `size`. */
export function entry(size: number): string {
  return `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32)`;
}
