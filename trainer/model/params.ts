/**
 * The parameter layout: every weight of the model, in Hugging Face naming, as a named view into one flat f32
 * buffer (each start aligned for device views), plus the seeded initialisation.
 *
 * @module
 */

import { alignUp } from "../gpu/backend.ts";
import { createRng } from "../../core/random/mod.ts";
import { headDim, type ModelConfig } from "./config.ts";

/** Which head sits on top of the decoder body. */
export type HeadKind = "lm" | "scalar";

/** How a parameter is initialised. */
export type InitKind = "normal" | "zeros" | "ones";

/** One named parameter: its shape and where it starts in the flat buffer. */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** Number of elements (product of `shape`). */
  size: number;
  /** Start in the flat buffer (a multiple of the view alignment). */
  offset: number;
  init: InitKind;
}

/** The full layout of a model's parameters. */
export interface ParamLayout {
  specs: ParamSpec[];
  byName: Map<string, ParamSpec>;
  /** Length of the flat buffer, padding included. */
  total: number;
  /** Number of real parameters (padding excluded). */
  count: number;
}

/** Standard deviation of the normal initialisation (Hugging Face Qwen2's `initializer_range`). */
export const INIT_STD = 0.02;

/** Name of layer `i`'s parameter `suffix`, e.g. `layerName(0, "mlp.up_proj.weight")`. */
export function layerName(i: number, suffix: string): string {
  return `model.layers.${i}.${suffix}`;
}

/** The parameter layout of a model with `config` and `head`. */
export function paramLayout(config: ModelConfig, head: HeadKind): ParamLayout {
  const C = config.hidden_size, I = config.intermediate_size, V = config.vocab_size;
  const D = headDim(config);
  const qDim = config.num_attention_heads * D, kvDim = config.num_key_value_heads * D;
  const entries: [string, number[], InitKind][] = [["model.embed_tokens.weight", [V, C], "normal"]];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const l = (s: string) => layerName(i, s);
    entries.push(
      [l("input_layernorm.weight"), [C], "ones"],
      [l("self_attn.q_proj.weight"), [qDim, C], "normal"],
      [l("self_attn.q_proj.bias"), [qDim], "zeros"],
      [l("self_attn.k_proj.weight"), [kvDim, C], "normal"],
      [l("self_attn.k_proj.bias"), [kvDim], "zeros"],
      [l("self_attn.v_proj.weight"), [kvDim, C], "normal"],
      [l("self_attn.v_proj.bias"), [kvDim], "zeros"],
      [l("self_attn.o_proj.weight"), [C, qDim], "normal"],
      [l("post_attention_layernorm.weight"), [C], "ones"],
      [l("mlp.gate_proj.weight"), [I, C], "normal"],
      [l("mlp.up_proj.weight"), [I, C], "normal"],
      [l("mlp.down_proj.weight"), [C, I], "normal"],
    );
  }
  entries.push(["model.norm.weight", [C], "ones"]);
  if (head === "scalar") entries.push(["score.weight", [1, C], "zeros"]);
  else if (!config.tie_word_embeddings) entries.push(["lm_head.weight", [V, C], "normal"]);
  const specs: ParamSpec[] = [];
  let offset = 0, count = 0;
  for (const [name, shape, init] of entries) {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, size, offset, init });
    offset = alignUp(offset + size);
    count += size;
  }
  return { specs, byName: new Map(specs.map((s) => [s.name, s])), total: offset, count };
}

/**
 * The seeded initial values of every parameter, in layout order: normal(0, INIT_STD) weights, zero biases and
 * zero scalar head, unit norms. One array per parameter, so a large model never needs one host-side copy.
 */
export function* initialValues(layout: ParamLayout, seed: number): Generator<[ParamSpec, Float32Array]> {
  const rng = createRng(seed);
  for (const s of layout.specs) {
    const data = new Float32Array(s.size);
    if (s.init === "ones") data.fill(1);
    else if (s.init === "normal") { for (let i = 0; i < s.size; i++) data[i] = rng.nextNormal() * INIT_STD; }
    yield [s, data];
  }
}
