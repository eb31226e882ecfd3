/**
 * CPU reference kernels for the element- and row-wise operations of the backend interface (embedding, RMSNorm,
 * rotary embedding, SwiGLU, bias, row gather/scatter, AdamW). Each works on host arrays; the semantics are those
 * documented on the parameter types in `../backend.ts`.
 *
 * @module
 */

/** `out[r, :] = table[tokens[r], :]`. */
export function embeddingForward(
  tokens: Int32Array,
  table: Float32Array,
  out: Float32Array,
  rows: number,
  dim: number,
): void {
  const vocab = table.length / dim;
  for (let r = 0; r < rows; r++) {
    const t = tokens[r];
    if (t < 0 || t >= vocab) throw new RangeError(`embedding: token ${t} at row ${r} outside [0, ${vocab})`);
    out.set(table.subarray(t * dim, t * dim + dim), r * dim);
  }
}

/** `dTable[tokens[r], :] += dOut[r, :]`. */
export function embeddingBackward(
  tokens: Int32Array,
  dOut: Float32Array,
  dTable: Float32Array,
  rows: number,
  dim: number,
): void {
  for (let r = 0; r < rows; r++) {
    const t = tokens[r] * dim;
    const o = r * dim;
    for (let c = 0; c < dim; c++) dTable[t + c] += dOut[o + c];
  }
}

/** RMSNorm forward; writes `out` and `rstd`. */
export function rmsNormForward(
  x: Float32Array,
  weight: Float32Array,
  out: Float32Array,
  rstd: Float32Array,
  rows: number,
  dim: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let c = 0; c < dim; c++) ss += x[o + c] * x[o + c];
    const s = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = s;
    for (let c = 0; c < dim; c++) out[o + c] = weight[c] * Math.fround(x[o + c] * s);
  }
}

/**
 * RMSNorm backward, accumulating: with `xh = x * rstd`, `dxh = dOut * weight`,
 * `dx += rstd * (dxh - xh * mean(dxh * xh))`, `dWeight += sum_r dOut * xh`.
 */
export function rmsNormBackward(
  x: Float32Array,
  weight: Float32Array,
  rstd: Float32Array,
  dOut: Float32Array,
  dx: Float32Array,
  dWeight: Float32Array,
  rows: number,
  dim: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const s = rstd[r];
    let dot = 0;
    for (let c = 0; c < dim; c++) {
      const xh = x[o + c] * s;
      dot += dOut[o + c] * weight[c] * xh;
      dWeight[c] += dOut[o + c] * xh;
    }
    dot /= dim;
    for (let c = 0; c < dim; c++) {
      const xh = x[o + c] * s;
      dx[o + c] += s * (dOut[o + c] * weight[c] - xh * dot);
    }
  }
}

/** Inverse frequencies `theta^(-2j/D)` for `j < D/2`, rounded to f32 as transformers computes them. */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const f = new Float32Array(half);
  for (let j = 0; j < half; j++) f[j] = 1 / Math.pow(theta, Math.fround((2 * j) / headDim));
  return f;
}

/** Cosines and sines of `pos * invFreq[j]` for positions below `positions`, row `pos` at `pos * half`. */
export interface RopeTable {
  cos: Float32Array;
  sin: Float32Array;
  positions: number;
}

const ropeTables = new Map<string, RopeTable>();
/** Positions from which rows compute their angles directly instead of growing the table further. */
export const ROPE_TABLE_MAX = 1 << 16;

/**
 * The table for (headDim, theta) covering position `maxPos` (below {@linkcode ROPE_TABLE_MAX}), grown (to a power
 * of two) when needed: the angles are recomputed only when a new position shows up, not for every row of every
 * call.
 */
export function ropeTable(headDim: number, theta: number, maxPos: number): RopeTable {
  const key = `${headDim}:${theta}`;
  const have = ropeTables.get(key);
  if (have && have.positions > maxPos) return have;
  const half = headDim / 2, invFreq = ropeInvFreq(headDim, theta);
  let positions = 64;
  while (positions <= maxPos) positions *= 2;
  const cos = new Float32Array(positions * half), sin = new Float32Array(positions * half);
  for (let pos = 0; pos < positions; pos++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(pos * invFreq[j]);
      cos[pos * half + j] = Math.cos(angle);
      sin[pos * half + j] = Math.sin(angle);
    }
  }
  const table = { cos, sin, positions };
  ropeTables.set(key, table);
  return table;
}

/** Rotary embedding in place (`rotate_half` layout); `inverse` applies the transposed rotation. */
export function rope(
  x: Float32Array,
  positions: Int32Array,
  rows: number,
  heads: number,
  headDim: number,
  theta: number,
  inverse: boolean,
): void {
  if (headDim % 2 !== 0) throw new RangeError(`rope: headDim must be even, got ${headDim}`);
  const half = headDim / 2;
  let maxPos = 0;
  for (let r = 0; r < rows; r++) {
    if (positions[r] > maxPos && positions[r] < ROPE_TABLE_MAX) maxPos = positions[r];
  }
  const table = ropeTable(headDim, theta, maxPos);
  const rowCos = new Float32Array(half), rowSin = new Float32Array(half);
  const sign = inverse ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const pos = positions[r];
    let cos = table.cos, sin = table.sin, t = pos * half;
    if (!(pos >= 0 && pos < table.positions)) {
      // Beyond the table (or negative): this row's angles directly, as the table computes them.
      const invFreq = ropeInvFreq(headDim, theta);
      for (let j = 0; j < half; j++) {
        const angle = Math.fround(pos * invFreq[j]);
        rowCos[j] = Math.cos(angle);
        rowSin[j] = Math.sin(angle);
      }
      [cos, sin, t] = [rowCos, rowSin, 0];
    }
    for (let h = 0; h < heads; h++) {
      const o = (r * heads + h) * headDim;
      for (let j = 0; j < half; j++) {
        const x1 = x[o + j];
        const x2 = x[o + j + half];
        const c = cos[t + j], sn = sign * sin[t + j];
        x[o + j] = x1 * c - x2 * sn;
        x[o + j + half] = x2 * c + x1 * sn;
      }
    }
  }
}

/** `out = silu(gate) * up`. */
export function swigluForward(
  gate: Float32Array,
  up: Float32Array,
  out: Float32Array,
  length: number,
): void {
  for (let i = 0; i < length; i++) {
    const g = gate[i];
    out[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

/** SwiGLU backward: `dUp = dOut * silu(g)`, `dGate = dOut * up * s (1 + g (1 - s))` with `s = sigmoid(g)`. */
export function swigluBackward(
  gate: Float32Array,
  up: Float32Array,
  dOut: Float32Array,
  dGate: Float32Array,
  dUp: Float32Array,
  length: number,
): void {
  for (let i = 0; i < length; i++) {
    const g = gate[i];
    const s = 1 / (1 + Math.exp(-g));
    const d = dOut[i];
    dUp[i] = d * g * s;
    dGate[i] = d * up[i] * s * (1 + g * (1 - s));
  }
}

/** `x[r, c] += bias[c]`. */
export function addBias(x: Float32Array, bias: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) x[o + c] += bias[c];
  }
}

/** `dBias[c] += sum_r dOut[r, c]`. */
export function biasGrad(dOut: Float32Array, dBias: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) dBias[c] += dOut[o + c];
  }
}

/** `out[i, :] = src[indices[i], :]`. */
export function gatherRows(
  src: Float32Array,
  indices: Int32Array,
  out: Float32Array,
  count: number,
  width: number,
): void {
  const srcRows = src.length / width;
  for (let i = 0; i < count; i++) {
    const r = indices[i];
    if (r < 0 || r >= srcRows) throw new RangeError(`gatherRows: index ${r} outside [0, ${srcRows})`);
    out.set(src.subarray(r * width, r * width + width), i * width);
  }
}

/** `dst[indices[i], :] += src[i, :]`. */
export function scatterAddRows(
  src: Float32Array,
  indices: Int32Array,
  dst: Float32Array,
  count: number,
  width: number,
): void {
  const dstRows = dst.length / width;
  for (let i = 0; i < count; i++) {
    const r = indices[i];
    if (r < 0 || r >= dstRows) throw new RangeError(`scatterAddRows: index ${r} outside [0, ${dstRows})`);
    const o = r * width;
    const s = i * width;
    for (let c = 0; c < width; c++) dst[o + c] += src[s + c];
  }
}

/** Options of {@linkcode adamw}; see `AdamWParams` in `../backend.ts`. */
export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  gradScale: number;
}

/** One AdamW update in place (PyTorch semantics). */
export function adamw(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  h: AdamWHyper,
): void {
  const { lr, beta1, beta2, eps, weightDecay, step, gradScale } = h;
  if (!(step >= 1)) throw new RangeError(`adamw: step must be >= 1, got ${step}`);
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * gradScale;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i] * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
}
