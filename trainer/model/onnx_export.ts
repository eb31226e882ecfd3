/**
 * ONNX export of a Qwen2-style decoder in the Hugging Face Optimum decoder convention, so that onnxruntime
 * (web, node, python) and tools that load Optimum exports can run it:
 *
 * - inputs: `input_ids` int64 `[batch, seq]`, `attention_mask` int64 `[batch, past + seq]` (1 = real token),
 *   `position_ids` int64 `[batch, seq]`, and per layer N `past_key_values.N.key` / `.value` f32
 *   `[batch, kv_heads, past, head_dim]` (`past` may be 0);
 * - outputs: `logits` f32 `[batch, seq, vocab]` and per layer `present.N.key` / `.value` f32
 *   `[batch, kv_heads, past + seq, head_dim]` (the past with the new keys / values appended).
 *
 * The graph uses standard ONNX operators only (opset 17): RMSNorm as Pow / ReduceMean / Add / Sqrt / Div / Mul,
 * rotary positions from precomputed cos / sin tables gathered by `position_ids`, grouped-query attention by
 * broadcasting each key/value head over its group of query heads, a causal and padding mask, Softmax, and SiLU
 * as `x * Sigmoid(x)`. Weights keep their Hugging Face names as initializers (a linear layer's `[out, in]`
 * weight feeds a Transpose that onnxruntime folds at load time), so a tied LM head stores the embedding once.
 *
 * This is the only module of the trainer that imports `onnx-proto`; import it only to export.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import type { Model } from "./model.ts";
import { type ModelConfig, validateConfig } from "./config.ts";
import { loadCheckpoint } from "./checkpoint.ts";
import { createCpuBackend } from "../gpu/cpu/mod.ts";

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** The model configuration the export reads (Hugging Face Qwen2 field names). */
export type OnnxModelConfig = ModelConfig;

/** Options of {@linkcode exportOnnx} and {@linkcode writeOnnx}. */
export interface OnnxExportOptions {
  /** Rows of the rotary cos / sin tables, i.e. the largest position id + 1 (default: max_position_embeddings). */
  maxPositions?: number;
  /** Stored in the model's `producer_name` (default "oreal-ts"). */
  producer?: string;
}

/** Options of {@linkcode writeOnnx}. */
export interface WriteOnnxOptions extends OnnxExportOptions {
  /**
   * Bytes of weights above which they go to the external-data file {@linkcode ONNX_EXTERNAL_DATA} instead of
   * inside `model.onnx` (default: just under protobuf's 2 GiB limit; tests set it low).
   */
  externalDataThreshold?: number;
}

/** The file beside `model.onnx` that holds the weights of a large model (ONNX external data, as Optimum names it). */
export const ONNX_EXTERNAL_DATA = "model.onnx_data";

/** Alignment of each tensor in the external-data file (a page, so that runtimes may map it). */
const EXTERNAL_ALIGN = 4096;

/** The ONNX opset the graph is written for. */
export const ONNX_OPSET = 17;

/** The largest model a single protobuf file can hold (2 GiB, protobuf's limit), with some room for the graph. */
const MAX_BYTES = 2 ** 31 - 2 ** 24;

/** The Hugging Face names and shapes of every weight of a Qwen2 model with `config`, in export order. */
export function qwen2WeightShapes(config: OnnxModelConfig): Map<string, number[]> {
  const { hidden_size: h, intermediate_size: f, vocab_size: v } = config;
  const d = h / config.num_attention_heads;
  const kv = config.num_key_value_heads * d;
  const shapes = new Map<string, number[]>([["model.embed_tokens.weight", [v, h]]]);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(`${p}input_layernorm.weight`, [h]);
    shapes.set(`${p}self_attn.q_proj.weight`, [h, h]);
    shapes.set(`${p}self_attn.q_proj.bias`, [h]);
    shapes.set(`${p}self_attn.k_proj.weight`, [kv, h]);
    shapes.set(`${p}self_attn.k_proj.bias`, [kv]);
    shapes.set(`${p}self_attn.v_proj.weight`, [kv, h]);
    shapes.set(`${p}self_attn.v_proj.bias`, [kv]);
    shapes.set(`${p}self_attn.o_proj.weight`, [h, h]);
    shapes.set(`${p}post_attention_layernorm.weight`, [h]);
    shapes.set(`${p}mlp.gate_proj.weight`, [f, h]);
    shapes.set(`${p}mlp.up_proj.weight`, [f, h]);
    shapes.set(`${p}mlp.down_proj.weight`, [h, f]);
  }
  shapes.set("model.norm.weight", [h]);
  if (!config.tie_word_embeddings) shapes.set("lm_head.weight", [v, h]);
  return shapes;
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Where the weights go: inside the model (null) or into the external-data file, listed in file order. */
type ExternalWeights = { offset: number; data: Float32Array }[] | null;

function floatTensor(
  name: string,
  dims: number[],
  data: Float32Array,
  external: ExternalWeights = null,
): ITensorProto {
  if (external === null) {
    return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(data) };
  }
  const last = external[external.length - 1];
  const end = last ? last.offset + last.data.byteLength : 0;
  const offset = Math.ceil(end / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
  external.push({ offset, data });
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: "location", value: ONNX_EXTERNAL_DATA },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(data.byteLength) },
    ],
  };
}

function int64Tensor(name: string, dims: number[], values: number[]): ITensorProto {
  const data = BigInt64Array.from(values, (x) => BigInt(x));
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: bytesOf(data) };
}

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

type Attr = number | number[] | string;

/** Accumulates nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  #count = 0;
  readonly #consts = new Map<string, string>();

  /** Adds a node and returns its output names (fresh ones unless given). */
  op(
    type: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    outputs: string[] | number = 1,
  ): string[] {
    const outs = typeof outputs === "number"
      ? Array.from({ length: outputs }, () => `/${type.toLowerCase()}_${this.#count++}`)
      : outputs;
    const attribute = Object.entries(attrs).map(([name, v]) => {
      const T = onnx.AttributeProto.AttributeType;
      if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
      return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
    });
    this.nodes.push({
      opType: type,
      input: inputs,
      output: outs,
      attribute,
      name: `${type}_${this.nodes.length}`,
    });
    return outs;
  }

  /** Adds a single-output node and returns its output name. */
  op1(type: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.op(type, inputs, attrs, output === undefined ? 1 : [output])[0];
  }

  /** A shared int64 constant (a 1-D tensor, or a scalar when `scalar`). */
  ints(values: number[], scalar = false): string {
    const key = `${scalar ? "s" : "v"}:${values.join(",")}`;
    let name = this.#consts.get(key);
    if (name === undefined) {
      name = `/const_i64_${this.#consts.size}`;
      this.initializers.push(int64Tensor(name, scalar ? [] : [values.length], values));
      this.#consts.set(key, name);
    }
    return name;
  }

  /** A shared f32 scalar constant. */
  float(value: number): string {
    const key = `f:${value}`;
    let name = this.#consts.get(key);
    if (name === undefined) {
      name = `/const_f32_${this.#consts.size}`;
      this.initializers.push(floatTensor(name, [], Float32Array.of(value)));
      this.#consts.set(key, name);
    }
    return name;
  }
}

/**
 * Rotary cos / sin tables `[positions, head_dim]` as transformers computes them: `inv_freq` and the angles in
 * f32, the two halves equal.
 */
export function rotaryTables(
  positions: number,
  headDim: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(positions * headDim), sin = new Float32Array(positions * headDim);
  for (let j = 0; j < half; j++) {
    const invFreq = Math.fround(1 / Math.pow(theta, Math.fround((2 * j) / headDim)));
    for (let p = 0; p < positions; p++) {
      const a = Math.fround(p * invFreq);
      const c = Math.cos(a), s = Math.sin(a);
      cos[p * headDim + j] = cos[p * headDim + j + half] = c;
      sin[p * headDim + j] = sin[p * headDim + j + half] = s;
    }
  }
  return { cos, sin };
}

function getWeight(weights: WeightSource, name: string, shape: number[]): Float32Array {
  const w = weights instanceof Map ? weights.get(name) : (weights as Record<string, Float32Array>)[name];
  if (w === undefined) throw new Error(`exportOnnx: missing weight ${name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (w.length !== n) {
    throw new RangeError(
      `exportOnnx: weight ${name} has ${w.length} values, expected ${n} [${shape.join(", ")}]`,
    );
  }
  return w;
}

/** Named Hugging Face weights: a map or a plain record from name to a flat f32 array (row-major). */
export type WeightSource = ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;

/** Bytes of the float weights (and rotary tables) of the export of `config`. */
function weightBytes(config: OnnxModelConfig, maxPositions: number): number {
  let bytes = 0;
  for (const s of qwen2WeightShapes(config).values()) bytes += 4 * s.reduce((a, b) => a * b, 1);
  return bytes + 8 * maxPositions * (config.hidden_size / config.num_attention_heads);
}

/**
 * Builds the ONNX model (serialized protobuf bytes) of a Qwen2 decoder from its config and named weights.
 * Throws on a missing or mis-sized weight, a bad config (`validateConfig`), or a model over protobuf's 2 GiB
 * limit (write such a model with {@linkcode writeOnnx}).
 */
export function exportOnnx(
  config: OnnxModelConfig,
  weights: WeightSource,
  options: OnnxExportOptions = {},
): Uint8Array {
  return buildOnnx(config, weights, options, null);
}

/**
 * Writes the ONNX export of a Qwen2 decoder into folder `dir`: `model.onnx`, and when the weights are over
 * `externalDataThreshold` bytes, `model.onnx_data` with the weights (ONNX external data, so models over
 * protobuf's 2 GiB limit export; onnxruntime and `deno task serve` load the pair). Returns the names of the files
 * written.
 */
export async function writeOnnx(
  dir: string,
  config: OnnxModelConfig,
  weights: WeightSource,
  options: WriteOnnxOptions = {},
): Promise<string[]> {
  const threshold = options.externalDataThreshold ?? MAX_BYTES;
  const maxPositions = options.maxPositions ?? config.max_position_embeddings;
  await Deno.remove(`${dir}/${ONNX_EXTERNAL_DATA}`).catch(() => {});
  if (weightBytes(config, maxPositions) <= threshold) {
    await Deno.writeFile(`${dir}/model.onnx`, buildOnnx(config, weights, options, null));
    return ["model.onnx"];
  }
  const external: NonNullable<ExternalWeights> = [];
  const model = buildOnnx(config, weights, options, external);
  // The weights are written one by one: their total may exceed what one ArrayBuffer holds.
  const file = await Deno.open(`${dir}/${ONNX_EXTERNAL_DATA}`, { write: true, create: true, truncate: true });
  try {
    let at = 0;
    for (const { offset, data } of external) {
      const chunks = [new Uint8Array(offset - at), bytesOf(data)];
      for (const chunk of chunks) {
        for (let done = 0; done < chunk.length;) done += await file.write(chunk.subarray(done));
      }
      at = offset + data.byteLength;
    }
  } finally {
    file.close();
  }
  await Deno.writeFile(`${dir}/model.onnx`, model);
  return ["model.onnx", ONNX_EXTERNAL_DATA];
}

function buildOnnx(
  config: OnnxModelConfig,
  weights: WeightSource,
  options: OnnxExportOptions,
  external: ExternalWeights,
): Uint8Array {
  validateConfig(config);
  const maxPositions = options.maxPositions ?? config.max_position_embeddings;
  if (!Number.isInteger(maxPositions) || maxPositions <= 0) {
    throw new RangeError(`exportOnnx: maxPositions must be a positive integer, got ${maxPositions}`);
  }
  const shapes = qwen2WeightShapes(config);
  const bytes = weightBytes(config, maxPositions);
  if (external === null && bytes > MAX_BYTES) {
    throw new RangeError(
      `exportOnnx: ${bytes} bytes of weights exceed the 2 GiB a single ONNX file can hold ` +
        `(writeOnnx puts them in an external-data file)`,
    );
  }
  const headDim = config.hidden_size / config.num_attention_heads;

  const g = new GraphBuilder();
  for (const [name, shape] of shapes) {
    g.initializers.push(floatTensor(name, shape, getWeight(weights, name, shape), external));
  }
  const { cos, sin } = rotaryTables(maxPositions, headDim, config.rope_theta);
  g.initializers.push(floatTensor("/rotary/cos_table", [maxPositions, headDim], cos, external));
  g.initializers.push(floatTensor("/rotary/sin_table", [maxPositions, headDim], sin, external));

  const heads = config.num_attention_heads, kvHeads = config.num_key_value_heads, groups = heads / kvHeads;
  const FLOAT = onnx.TensorProto.DataType.FLOAT, INT64 = onnx.TensorProto.DataType.INT64;
  const BOOL = onnx.TensorProto.DataType.BOOL;
  const inputs: IValueInfoProto[] = [
    valueInfo("input_ids", INT64, ["batch_size", "sequence_length"]),
    valueInfo("attention_mask", INT64, ["batch_size", "total_sequence_length"]),
    valueInfo("position_ids", INT64, ["batch_size", "sequence_length"]),
  ];
  const outputs: IValueInfoProto[] = [
    valueInfo("logits", FLOAT, ["batch_size", "sequence_length", config.vocab_size]),
  ];

  // Rotary cos / sin for each position: [B, S, D], unsqueezed for q [B, KV, G, S, D] and k [B, KV, S, D].
  const cosBS = g.op1("Gather", ["/rotary/cos_table", "position_ids"], { axis: 0 });
  const sinBS = g.op1("Gather", ["/rotary/sin_table", "position_ids"], { axis: 0 });
  const cosQ = g.op1("Unsqueeze", [cosBS, g.ints([1, 2])]),
    sinQ = g.op1("Unsqueeze", [sinBS, g.ints([1, 2])]);
  const cosK = g.op1("Unsqueeze", [cosBS, g.ints([1])]), sinK = g.op1("Unsqueeze", [sinBS, g.ints([1])]);

  // Mask [B, 1, 1, S, T]: key slot j is visible to query i when the key is real and j <= past + i.
  const total = g.op1("Gather", [g.op1("Shape", ["attention_mask"]), g.ints([1], true)], { axis: 0 });
  const seq = g.op1("Gather", [g.op1("Shape", ["input_ids"]), g.ints([1], true)], { axis: 0 });
  const one = g.ints([1], true), zero = g.ints([0], true);
  const queryPos = g.op1("Range", [g.op1("Sub", [total, seq]), total, one]);
  const keyPos = g.op1("Range", [zero, total, one]);
  const causal = g.op1("LessOrEqual", [
    g.op1("Unsqueeze", [keyPos, g.ints([0])]),
    g.op1("Unsqueeze", [queryPos, g.ints([1])]),
  ]);
  const real = g.op1("Unsqueeze", [g.op1("Cast", ["attention_mask"], { to: BOOL }), g.ints([1, 2, 3])]);
  const allowed = g.op1("And", [real, causal]);
  // A large finite negative keeps fully masked (padding) rows finite: their softmax is uniform, never NaN.
  const maskBias = g.op1("Where", [allowed, g.float(0), g.float(-1e30)]);

  const rmsNorm = (x: string, weight: string): string => {
    const ms = g.op1("ReduceMean", [g.op1("Pow", [x, g.float(2)])], { axes: [-1], keepdims: 1 });
    const rms = g.op1("Sqrt", [g.op1("Add", [ms, g.float(config.rms_norm_eps)])]);
    return g.op1("Mul", [g.op1("Div", [x, rms]), weight]);
  };
  const linear = (x: string, weight: string, bias?: string): string => {
    const y = g.op1("MatMul", [x, g.op1("Transpose", [weight], { perm: [1, 0] })]);
    return bias === undefined ? y : g.op1("Add", [y, bias]);
  };
  const rotate = (x: string, c: string, s: string): string => {
    const [x1, x2] = g.op("Split", [x], { axis: -1 }, 2);
    const rotated = g.op1("Concat", [g.op1("Neg", [x2]), x1], { axis: -1 });
    return g.op1("Add", [g.op1("Mul", [x, c]), g.op1("Mul", [rotated, s])]);
  };

  let x = g.op1("Gather", ["model.embed_tokens.weight", "input_ids"], { axis: 0 }); // [B, S, H]
  const scale = g.float(1 / Math.sqrt(headDim));
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    const pastK = `past_key_values.${i}.key`, pastV = `past_key_values.${i}.value`;
    const kvDims: Dim[] = ["batch_size", kvHeads, "past_sequence_length", headDim];
    inputs.push(valueInfo(pastK, FLOAT, kvDims), valueInfo(pastV, FLOAT, kvDims));
    const presentDims: Dim[] = ["batch_size", kvHeads, "total_sequence_length", headDim];
    outputs.push(
      valueInfo(`present.${i}.key`, FLOAT, presentDims),
      valueInfo(`present.${i}.value`, FLOAT, presentDims),
    );

    const h = rmsNorm(x, `${p}input_layernorm.weight`);
    const q = linear(h, `${p}self_attn.q_proj.weight`, `${p}self_attn.q_proj.bias`);
    const k = linear(h, `${p}self_attn.k_proj.weight`, `${p}self_attn.k_proj.bias`);
    const v = linear(h, `${p}self_attn.v_proj.weight`, `${p}self_attn.v_proj.bias`);
    // q: [B, S, H*D] -> [B, KV, G, S, D]; k, v: [B, S, KV*D] -> [B, KV, S, D].
    const q5 = g.op1("Transpose", [g.op1("Reshape", [q, g.ints([0, 0, kvHeads, groups, headDim])])], {
      perm: [0, 2, 3, 1, 4],
    });
    const k4 = g.op1("Transpose", [g.op1("Reshape", [k, g.ints([0, 0, kvHeads, headDim])])], {
      perm: [0, 2, 1, 3],
    });
    const v4 = g.op1("Transpose", [g.op1("Reshape", [v, g.ints([0, 0, kvHeads, headDim])])], {
      perm: [0, 2, 1, 3],
    });
    const qRot = rotate(q5, cosQ, sinQ);
    const kRot = rotate(k4, cosK, sinK);
    const presentK = g.op1("Concat", [pastK, kRot], { axis: 2 }, `present.${i}.key`);
    const presentV = g.op1("Concat", [pastV, v4], { axis: 2 }, `present.${i}.value`);
    // Each key/value head broadcasts over its group of query heads: [B, KV, 1, T, D].
    const kT = g.op1("Transpose", [g.op1("Unsqueeze", [presentK, g.ints([2])])], { perm: [0, 1, 2, 4, 3] });
    const v5 = g.op1("Unsqueeze", [presentV, g.ints([2])]);
    const scores = g.op1("Add", [g.op1("Mul", [g.op1("MatMul", [qRot, kT]), scale]), maskBias]);
    const attn = g.op1("MatMul", [g.op1("Softmax", [scores], { axis: -1 }), v5]); // [B, KV, G, S, D]
    const merged = g.op1("Reshape", [
      g.op1("Transpose", [attn], { perm: [0, 3, 1, 2, 4] }),
      g.ints([0, 0, heads * headDim]),
    ]);
    x = g.op1("Add", [x, linear(merged, `${p}self_attn.o_proj.weight`)]);

    const h2 = rmsNorm(x, `${p}post_attention_layernorm.weight`);
    const gate = linear(h2, `${p}mlp.gate_proj.weight`);
    const act = g.op1("Mul", [
      g.op1("Mul", [gate, g.op1("Sigmoid", [gate])]),
      linear(h2, `${p}mlp.up_proj.weight`),
    ]);
    x = g.op1("Add", [x, linear(act, `${p}mlp.down_proj.weight`)]);
  }
  const head = config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  const final = rmsNorm(x, "model.norm.weight");
  g.op("MatMul", [final, g.op1("Transpose", [head], { perm: [1, 0] })], {}, ["logits"]);

  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: options.producer ?? "oreal-ts",
    graph: { name: "qwen2", node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  });
  const encoded = onnx.ModelProto.encode(model).finish();
  // protobufjs hands back a Node Buffer under Deno's npm layer; return a plain Uint8Array over the same memory.
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** Exports a model's current weights (read back from its backend) with {@linkcode exportOnnx}. */
export async function exportModelOnnx(
  model: Pick<Model, "config" | "head" | "layout" | "getParam">,
  options: OnnxExportOptions = {},
): Promise<Uint8Array> {
  return exportOnnx(model.config, await lmWeights(model), options);
}

/** The weights of a model with an LM head, read back from its backend; throws for another head. */
async function lmWeights(
  model: Pick<Model, "head" | "layout" | "getParam">,
): Promise<Map<string, Float32Array>> {
  if (model.head !== "lm") throw new Error(`ONNX export: needs an LM head, the model has "${model.head}"`);
  const weights = new Map<string, Float32Array>();
  for (const spec of model.layout.specs) weights.set(spec.name, await model.getParam(spec.name));
  return weights;
}

/**
 * Exports the checkpoint folder `dir` (ours or a Hugging Face Qwen2 one, see `loadCheckpoint`) with
 * {@linkcode writeOnnx} into folder `outDir` (default `dir` itself), loading it on the CPU backend. Returns the
 * names of the files written.
 */
export async function exportCheckpointOnnx(
  dir: string,
  outDir: string = dir,
  options: WriteOnnxOptions = {},
): Promise<string[]> {
  const { model } = await loadCheckpoint(dir, createCpuBackend());
  try {
    return await writeModelOnnx(outDir, model, options);
  } finally {
    model.dispose();
  }
}

/**
 * Writes a model's current weights (read back from its backend) with {@linkcode writeOnnx} into folder `dir`.
 * Returns the names of the files written.
 */
export async function writeModelOnnx(
  dir: string,
  model: Pick<Model, "config" | "head" | "layout" | "getParam">,
  options: WriteOnnxOptions = {},
): Promise<string[]> {
  return await writeOnnx(dir, model.config, await lmWeights(model), options);
}
