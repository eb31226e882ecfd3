/**
 * A tiny ONNX decoder for the edge tests, written with `onnx-proto` in the Hugging Face Optimum convention
 * (input_ids, attention_mask, position_ids, past_key_values.N.key/value → logits, present.N.key/value).
 *
 * For the last position of a step, with `t` its token, `p` its position and `c` the number of tokens seen so
 * far (past plus current, read off the KV cache):
 *
 *   logits = W[t] + P[p] + c · U
 *
 * Each layer's new key and value are `K[t]` (all ones) unsqueezed to [b, kv_heads, s, head_dim] and
 * concatenated to the past, so `c` is the first key element of layer 0's present summed over positions.
 * A decoder that loses the cache or the positions gives other tokens than {@linkcode toyReference}.
 *
 * @module
 */

import onnxProto from "onnx-proto";

// deno-lint-ignore no-explicit-any -- onnx-proto's CommonJS namespace is untyped under Deno's npm interop
const { onnx } = onnxProto as any;

/** The toy model's weights and shapes. */
export interface ToyModelSpec {
  /** Vocabulary size. */
  vocabSize: number;
  /** Decoder layers (each has its own past key/value). */
  numLayers: number;
  /** Key/value heads. */
  numKvHeads: number;
  /** Head size. */
  headDim: number;
  /** Row-major [vocab, vocab]: the bigram logits. */
  w: Float32Array;
  /** Row-major [maxPositions, vocab]: the position logits. */
  p: Float32Array;
  /** [vocab]: the weight of the token count. */
  u: Float32Array;
  /** Rows of `p`, the longest sequence. */
  maxPositions: number;
  /**
   * When above 0, every step also multiplies two input-dependent [busyWork, busyWork] matrices and adds
   * zero times the result to the logits: a slow model with the same outputs, for time-limit tests.
   */
  busyWork?: number;
}

/**
 * A spec whose greedy continuation of token t is `next(t)` (default t + 1 mod vocab), by a margin of 10
 * logits, with no position or count effect.
 */
export function successorSpec(
  vocabSize: number,
  maxPositions = 64,
  next: (t: number) => number = (t) => (t + 1) % vocabSize,
): ToyModelSpec {
  const w = new Float32Array(vocabSize * vocabSize);
  for (let i = 0; i < vocabSize; i++) w[i * vocabSize + next(i)] = 10;
  return {
    vocabSize,
    numLayers: 2,
    numKvHeads: 2,
    headDim: 4,
    w,
    p: new Float32Array(maxPositions * vocabSize),
    u: new Float32Array(vocabSize),
    maxPositions,
  };
}

/** The greedy tokens the spec gives after `prompt`, computed directly (the oracle for the ONNX decoder). */
export function toyReference(spec: ToyModelSpec, prompt: readonly number[], steps: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  const v = spec.vocabSize;
  for (let k = 0; k < steps; k++) {
    const t = seq[seq.length - 1], pos = seq.length - 1, count = seq.length;
    let best = 0, bestValue = -Infinity;
    for (let j = 0; j < v; j++) {
      const x = Math.fround(
        Math.fround(spec.w[t * v + j] + spec.p[pos * v + j]) + Math.fround(count * spec.u[j]),
      );
      if (x > bestValue) {
        bestValue = x;
        best = j;
      }
    }
    out.push(best);
    seq.push(best);
  }
  return out;
}

const FLOAT = 1, INT64 = 7;

function tensor(name: string, dims: number[], data: Float32Array | BigInt64Array, dataType: number) {
  return { name, dims, dataType, rawData: new Uint8Array(data.buffer.slice(0)) };
}

function valueInfo(name: string, elemType: number, dims: (string | number)[]) {
  const dim = dims.map((d) => typeof d === "string" ? { dimParam: d } : { dimValue: d });
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function node(opType: string, input: string[], output: string[], attribute: unknown[] = []) {
  return { opType, input, output, name: output[0], attribute };
}

/** Serialises the toy decoder to ONNX bytes (opset 17, IR 8). */
export function buildToyModel(spec: ToyModelSpec): Uint8Array {
  const { vocabSize: v, numLayers, numKvHeads: h, headDim: d } = spec;
  const nodes = [
    node("Gather", ["W", "input_ids"], ["bigram"], [{ name: "axis", type: 2, i: 0 }]),
    node("Gather", ["P", "position_ids"], ["positional"], [{ name: "axis", type: 2, i: 0 }]),
    node("Gather", ["K", "input_ids"], ["k_flat"], [{ name: "axis", type: 2, i: 0 }]), // [b, s, h*d]
    node("Shape", ["input_ids"], ["ids_shape"]), // [b, s]
    node("Concat", ["ids_shape", "hd_dims"], ["k_shape"], [{ name: "axis", type: 2, i: 0 }]), // [b, s, h, d]
    node("Reshape", ["k_flat", "k_shape"], ["k_bshd"]),
    node("Transpose", ["k_bshd"], ["new_kv"], [{ name: "perm", type: 7, ints: [0, 2, 1, 3] }]),
  ];
  const inputs = [
    valueInfo("input_ids", INT64, ["batch", "seq"]),
    valueInfo("attention_mask", INT64, ["batch", "total"]),
    valueInfo("position_ids", INT64, ["batch", "seq"]),
  ];
  const outputs = [valueInfo("logits", FLOAT, ["batch", "seq", v])];
  for (let i = 0; i < numLayers; i++) {
    for (const kv of ["key", "value"]) {
      inputs.push(valueInfo(`past_key_values.${i}.${kv}`, FLOAT, ["batch", h, "past", d]));
      outputs.push(valueInfo(`present.${i}.${kv}`, FLOAT, ["batch", h, "total", d]));
      nodes.push(node("Concat", [`past_key_values.${i}.${kv}`, "new_kv"], [`present.${i}.${kv}`], [
        { name: "axis", type: 2, i: 2 },
      ]));
    }
  }
  nodes.push(
    // count = sum over positions of present.0.key[:, 0, :, 0] -> [b, 1]
    node("Slice", ["present.0.key", "zero1", "one1", "three1"], ["first_elem"]), // [b, h, total, 1]
    node("Slice", ["first_elem", "zero1", "one1", "one1"], ["first_head"]), // [b, 1, total, 1]
    node("ReduceSum", ["first_head", "axes_23"], ["count"], [{ name: "keepdims", type: 2, i: 0 }]), // [b, 1]
    node("Unsqueeze", ["count", "axis_2"], ["count3"]), // [b, 1, 1]
    node("Mul", ["count3", "U"], ["count_term"]), // [b, 1, v]
    node("Add", ["bigram", "positional"], ["local"]),
  );
  const extra: ReturnType<typeof tensor>[] = [];
  if (spec.busyWork && spec.busyWork > 0) {
    const n = spec.busyWork;
    nodes.push(
      node("Cast", ["input_ids"], ["ids_float"], [{ name: "to", type: 2, i: FLOAT }]),
      node("ReduceSum", ["ids_float"], ["ids_sum"], [{ name: "keepdims", type: 2, i: 0 }]),
      node("Expand", ["ids_sum", "busy_shape"], ["busy"]),
      node("MatMul", ["busy", "busy"], ["busy_product"]),
      node("ReduceMax", ["busy_product"], ["busy_max"], [{ name: "keepdims", type: 2, i: 0 }]),
      node("Mul", ["busy_max", "zero_f"], ["busy_zero"]),
      node("Add", ["local", "busy_zero"], ["local_busy"]),
      node("Add", ["local_busy", "count_term"], ["logits"]),
    );
    extra.push(
      tensor("busy_shape", [2], BigInt64Array.from([BigInt(n), BigInt(n)]), INT64),
      tensor("zero_f", [], new Float32Array([0]), FLOAT),
    );
  } else nodes.push(node("Add", ["local", "count_term"], ["logits"]));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "oreal-ts edge tests",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "toy_decoder",
      node: nodes,
      input: inputs,
      output: outputs,
      initializer: [
        tensor("W", [v, v], spec.w, FLOAT),
        tensor("P", [spec.maxPositions, v], spec.p, FLOAT),
        tensor("U", [1, 1, v], spec.u, FLOAT),
        tensor("K", [v, h * d], new Float32Array(v * h * d).fill(1), FLOAT),
        tensor("hd_dims", [2], BigInt64Array.from([BigInt(h), BigInt(d)]), INT64),
        tensor("zero1", [1], BigInt64Array.from([0n]), INT64),
        tensor("one1", [1], BigInt64Array.from([1n]), INT64),
        tensor("three1", [1], BigInt64Array.from([3n]), INT64),
        tensor("axes_23", [2], BigInt64Array.from([2n, 3n]), INT64),
        tensor("axis_2", [1], BigInt64Array.from([2n]), INT64),
        ...extra,
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The Qwen2-style config.json of a spec, with `eos` as the end-of-sequence id. */
export function toyConfig(spec: ToyModelSpec, eos: number): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numKvHeads,
    num_key_value_heads: spec.numKvHeads,
    hidden_size: spec.numKvHeads * spec.headDim,
    vocab_size: spec.vocabSize,
    max_position_embeddings: spec.maxPositions,
    eos_token_id: eos,
  };
}
