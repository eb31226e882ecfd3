/**
 * Device buffers of the model's passes: the activations a training forward saves for its backward (with the
 * backward's scratch), and the scratch of the KV-cached forward. Allocated for the largest shape seen and reused
 * across calls (an RL step's batches change shape every step; allocating per shape made each step pay for it).
 *
 * @module
 */

import type { Backend, Tensor } from "../gpu/backend.ts";
import { headDim, type ModelConfig } from "./config.ts";

/** Saved activations of one decoder layer (rows = batch * seqLen). */
export interface LayerActs {
  ln1: Tensor;
  rstd1: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  lse: Tensor;
  resid2: Tensor;
  ln2: Tensor;
  rstd2: Tensor;
  gate: Tensor;
  up: Tensor;
  h: Tensor;
}

/**
 * Activations and scratch of a training forward/backward for one (batch, seqLen) shape; every buffer holds a
 * whole number of values per row, so storage allocated for more rows serves smaller shapes (see `actsView`).
 */
export interface Acts {
  batch: number;
  seqLen: number;
  rows: number;
  tokens: Tensor;
  positions: Tensor;
  /** resid[l] is the input of layer l; resid[L] the input of the final norm. */
  resid: Tensor[];
  layers: LayerActs[];
  lnf: Tensor;
  rstdf: Tensor;
  // LM-head rows (the first `count` are used)
  active: Tensor;
  targets: Tensor;
  hidden: Tensor;
  logprobs: Tensor;
  entropies: Tensor;
  headLse: Tensor;
  coeffs: Tensor;
  scores: Tensor;
  // backward scratch
  dResid: Tensor;
  dLn: Tensor;
  dAtt: Tensor;
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  dH: Tensor;
  dGate: Tensor;
  dUp: Tensor;
  dHidden: Tensor;
  /** Every tensor above, for freeing. */
  all: Tensor[];
}

/** Scratch of the KV-cached forward for up to `rows` new tokens. */
export interface StepActs {
  rows: number;
  tokens: Tensor;
  positions: Tensor;
  lengths: Tensor;
  x: Tensor;
  ln: Tensor;
  rstd: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  gate: Tensor;
  up: Tensor;
  h: Tensor;
  all: Tensor[];
}

/** Allocates the training activations of a `[batch, seqLen]` batch. */
export function allocActs(be: Backend, cfg: ModelConfig, batch: number, seqLen: number): Acts {
  const R = batch * seqLen, C = cfg.hidden_size, I = cfg.intermediate_size, D = headDim(cfg);
  const H = cfg.num_attention_heads, KV = cfg.num_key_value_heads;
  const all: Tensor[] = [];
  const f = (n: number) => {
    const t = be.alloc(n);
    all.push(t);
    return t;
  };
  const i = (n: number) => {
    const t = be.alloc(n, "i32");
    all.push(t);
    return t;
  };
  const layers: LayerActs[] = [];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    layers.push({
      ln1: f(R * C),
      rstd1: f(R),
      q: f(R * H * D),
      k: f(R * KV * D),
      v: f(R * KV * D),
      att: f(R * H * D),
      lse: f(batch * H * seqLen),
      resid2: f(R * C),
      ln2: f(R * C),
      rstd2: f(R),
      gate: f(R * I),
      up: f(R * I),
      h: f(R * I),
    });
  }
  const resid: Tensor[] = [];
  for (let l = 0; l <= cfg.num_hidden_layers; l++) resid.push(f(R * C));
  return {
    batch,
    seqLen,
    rows: R,
    tokens: i(R),
    positions: i(R),
    resid,
    layers,
    lnf: f(R * C),
    rstdf: f(R),
    active: i(R),
    targets: i(R),
    hidden: f(R * C),
    logprobs: f(R),
    entropies: f(R),
    headLse: f(R),
    coeffs: f(R),
    scores: f(R),
    dResid: f(R * C),
    dLn: f(R * C),
    dAtt: f(R * H * D),
    dq: f(R * H * D),
    dk: f(R * KV * D),
    dv: f(R * KV * D),
    dH: f(R * I),
    dGate: f(R * I),
    dUp: f(R * I),
    dHidden: f(R * C),
    all,
  };
}

/** Allocates the KV-cached forward's scratch for `rows` new tokens. */
export function allocStepActs(be: Backend, cfg: ModelConfig, rows: number): StepActs {
  const C = cfg.hidden_size, I = cfg.intermediate_size, D = headDim(cfg);
  const all: Tensor[] = [];
  const f = (n: number, dtype: "f32" | "i32" = "f32") => {
    const t = be.alloc(n, dtype);
    all.push(t);
    return t;
  };
  return {
    rows,
    tokens: f(rows, "i32"),
    positions: f(rows, "i32"),
    lengths: f(rows, "i32"),
    x: f(rows * C),
    ln: f(rows * C),
    rstd: f(rows),
    q: f(rows * cfg.num_attention_heads * D),
    k: f(rows * cfg.num_key_value_heads * D),
    v: f(rows * cfg.num_key_value_heads * D),
    att: f(rows * cfg.num_attention_heads * D),
    gate: f(rows * I),
    up: f(rows * I),
    h: f(rows * I),
    all,
  };
}

/**
 * The activations of a `[batch, seqLen]` batch as views into `storage`, activations allocated for at least
 * `batch * seqLen` rows (every buffer's size is proportional to the rows). Each view has the exact size the shape
 * needs, so the passes see the same tensors as with activations of their own; `all` stays the storage's.
 */
export function actsView(be: Backend, storage: Acts, batch: number, seqLen: number): Acts {
  const R = batch * seqLen;
  if (R > storage.rows) throw new RangeError(`actsView: ${R} rows exceed the storage's ${storage.rows}`);
  const scale = (t: Tensor) => be.view(t, 0, (t.length / storage.rows) * R);
  const layers = storage.layers.map((l) => {
    const out = {} as LayerActs;
    for (const key of Object.keys(l) as (keyof LayerActs)[]) out[key] = scale(l[key]);
    return out;
  });
  const out = { batch, seqLen, rows: R, resid: storage.resid.map(scale), layers, all: storage.all } as Acts;
  for (const [key, value] of Object.entries(storage)) {
    if (!(key in out)) (out as unknown as Record<string, Tensor>)[key] = scale(value as Tensor);
  }
  return out;
}

/** Frees every buffer of a set of activations. */
export function freeActs(be: Backend, acts: { all: Tensor[] }): void {
  for (const t of acts.all) be.free(t);
}
