/**
 * Generators for the fused LM head's row kernels. The logits of a chunk of rows come from the matmul kernel;
 * these kernels then make one pass over each row: online max / sum of exponentials / sum of p*z for the
 * log-probability of the target and the entropy (forward), and `dz = g * (onehot - softmax)` recomputed from the
 * saved log-sum-exp, in place (backward).
 *
 * @module
 */

import type { Dispatchable } from "./matmul.ts";
import { buildKernel, entry, MAX_GROUPS, u32 } from "./wgsl.ts";

const WG = 256;

/**
 * Per-row statistics of a `[rows, vocab]` logits chunk: `lse`, `logprobs = z[target] - lse` and
 * `entropies = lse - sum(p z)`. One workgroup per row. Bindings: logits, targets (read, i32), logprobs,
 * entropies, lse (rw). A target outside `[0, vocab)` gives a NaN log-probability. Only `vocab` is baked into the
 * source, so every chunk of rows shares one pipeline; `rows` is at most 65535.
 */
export function lmHeadStatsKernel(rows: number, vocab: number): Dispatchable {
  checkRows(rows);
  const V = u32(vocab);
  const kernel = buildKernel(
    `lm_head_stats_${vocab}`,
    [
      { name: "logits", kind: "read" },
      { name: "targets", kind: "read", type: "i32" },
      { name: "logprobs", kind: "rw" },
      { name: "entropies", kind: "rw" },
      { name: "lse", kind: "rw" },
    ],
    `
var<workgroup> rm: array<f32, ${WG}>;
var<workgroup> rs: array<f32, ${WG}>;
var<workgroup> rz: array<f32, ${WG}>;
${entry(WG)} {
  let row = wid.x;
  let o = row * ${V};
  var m = -3.0e38; var s = 0.0; var zs = 0.0;
  for (var v = lid; v < ${V}; v += ${WG}u) {
    let z = logits[o + v];
    if (z > m) { let c = exp(m - z); s = s * c + 1.0; zs = zs * c + z; m = z; }
    else { let e = exp(z - m); s += e; zs = fma(e, z, zs); }
  }
  rm[lid] = m; rs[lid] = s; rz[lid] = zs;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w >>= 1u) {
    if (lid < w) {
      let m1 = rm[lid]; let m2 = rm[lid + w]; let mm = max(m1, m2);
      let c1 = exp(m1 - mm); let c2 = exp(m2 - mm);
      rs[lid] = rs[lid] * c1 + rs[lid + w] * c2;
      rz[lid] = rz[lid] * c1 + rz[lid + w] * c2;
      rm[lid] = mm;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let l = rm[0] + log(rs[0]);
    lse[row] = l;
    entropies[row] = l - rz[0] / rs[0];
    let t = targets[row];
    var lp = bitcast<f32>(0x7fc00000u);
    if (t >= 0 && u32(t) < ${V}) { lp = logits[o + u32(t)] - l; }
    logprobs[row] = lp;
  }
}`,
  );
  return { kernel, groups: [rows] };
}

function checkRows(rows: number): void {
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_GROUPS) {
    throw new RangeError(`lmHead: rows per chunk must be in [1, ${MAX_GROUPS}], got ${rows}`);
  }
}

/**
 * In place over a `[rows, vocab]` logits chunk: `z <- g_r * ([v == target_r] - exp(z - lse_r))`.
 * Bindings: logits (rw), targets (read, i32), lse (read), coeffs (read). Only `vocab` is baked into the source;
 * `rows` is at most 65535.
 */
export function lmHeadGradKernel(rows: number, vocab: number): Dispatchable {
  checkRows(rows);
  const kernel = buildKernel(
    `lm_head_grad_${vocab}`,
    [
      { name: "logits", kind: "rw" },
      { name: "targets", kind: "read", type: "i32" },
      { name: "lse", kind: "read" },
      { name: "coeffs", kind: "read" },
    ],
    `
${entry(WG)} {
  let r = wid.y; let v = wid.x * ${WG}u + lid;
  if (v >= ${u32(vocab)}) { return; }
  let i = r * ${u32(vocab)} + v;
  let g = coeffs[r];
  let hit = select(0.0, g, targets[r] == i32(v));
  logits[i] = hit - g * exp(logits[i] - lse[r]);
}`,
  );
  return { kernel, groups: [Math.ceil(vocab / WG), rows] };
}
