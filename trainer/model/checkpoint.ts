/**
 * Checkpoints in the Hugging Face layout: `model.safetensors` (f32 or f16), `config.json` (`model_type` qwen2),
 * `tokenizer.json`, and, for exact resumption, `optimizer.safetensors` (AdamW moments by parameter name and the
 * step count). Loading also reads real Hugging Face Qwen2 / Qwen2.5 folders (f32, f16 or bf16; tied or untied;
 * one file or shards with `model.safetensors.index.json`).
 *
 * @module
 */

import type { Backend } from "../gpu/backend.ts";
import { configFromHf, configToHf } from "./config.ts";
import { Model } from "./model.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type SafetensorsEntry,
  type TensorToWrite,
} from "./safetensors.ts";

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveOptions {
  /** Contents of `tokenizer.json` (a string or an object to serialise); omitted: no tokenizer file. */
  tokenizerJson?: string | Record<string, unknown>;
  /** Storage type of the weights (default "f32"). */
  dtype?: "f32" | "f16";
  /** Also write the AdamW state (default false). */
  optimizer?: boolean;
  /** Extra `config.json` fields (e.g. `bos_token_id`, `eos_token_id`). */
  extraConfig?: Record<string, unknown>;
}

/** What {@linkcode loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  model: Model;
  /** Contents of `tokenizer.json`, or null when the folder has none. */
  tokenizerJson: string | null;
  /** Whether AdamW state was found and restored. */
  optimizerRestored: boolean;
}

const OPT_FILE = "optimizer.safetensors";

/** Writes `model` (and optionally its optimiser state and tokenizer) to folder `dir`, created if needed. */
export async function saveCheckpoint(dir: string, model: Model, opts: SaveOptions = {}): Promise<void> {
  const dtype = opts.dtype ?? "f32";
  await Deno.mkdir(dir, { recursive: true });
  const tensors: TensorToWrite[] = [];
  for (const spec of model.layout.specs) {
    tensors.push({ name: spec.name, shape: spec.shape, data: await model.getParam(spec.name) });
  }
  await Deno.writeFile(
    `${dir}/model.safetensors`,
    encodeSafetensors(tensors, dtype === "f16" ? "F16" : "F32", { format: "pt" }),
  );
  const architecture = model.head === "scalar" ? "Qwen2ForTokenClassification" : "Qwen2ForCausalLM";
  const extra = model.head === "scalar" ? { num_labels: 1, ...opts.extraConfig } : opts.extraConfig;
  const config = configToHf(model.config, {
    dtype: dtype === "f16" ? "float16" : "float32",
    architecture,
    extra,
  });
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  if (opts.tokenizerJson !== undefined) {
    const text = typeof opts.tokenizerJson === "string"
      ? opts.tokenizerJson
      : JSON.stringify(opts.tokenizerJson);
    await Deno.writeTextFile(`${dir}/tokenizer.json`, text);
  }
  if (opts.optimizer) {
    const state = await model.optimizerState();
    const moments: TensorToWrite[] = [];
    for (const spec of model.layout.specs) {
      const m = state.m.get(spec.name), v = state.v.get(spec.name);
      if (m && v) {
        moments.push({ name: `exp_avg.${spec.name}`, shape: spec.shape, data: m }, {
          name: `exp_avg_sq.${spec.name}`,
          shape: spec.shape,
          data: v,
        });
      }
    }
    await Deno.writeFile(
      `${dir}/${OPT_FILE}`,
      encodeSafetensors(moments, "F32", { step: String(state.step) }),
    );
  } else {
    await Deno.remove(`${dir}/${OPT_FILE}`).catch(() => {});
  }
}

async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

// All tensors of the folder's weights, from model.safetensors or from the shards listed in its index.
async function readWeights(dir: string): Promise<Map<string, SafetensorsEntry>> {
  const index = await readTextOrNull(`${dir}/model.safetensors.index.json`);
  const files = index
    ? [...new Set(Object.values((JSON.parse(index) as { weight_map: Record<string, string> }).weight_map))]
    : ["model.safetensors"];
  const all = new Map<string, SafetensorsEntry>();
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${dir}/${f}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new Error(`checkpoint: ${dir}/${f} not found`);
      throw e;
    }
    for (const [name, entry] of parseSafetensors(bytes).tensors) all.set(name, entry);
  }
  return all;
}

/**
 * Loads a checkpoint folder (ours or a Hugging Face Qwen2 / Qwen2.5 one) onto `backend`. A `score.weight`
 * tensor makes a scalar-head model. Unknown tensors are an error, except the rotary `inv_freq` buffers of old
 * exports and an `lm_head.weight` of a tied model.
 */
export async function loadCheckpoint(dir: string, backend: Backend): Promise<LoadedCheckpoint> {
  const configText = await readTextOrNull(`${dir}/config.json`);
  if (configText === null) throw new Error(`checkpoint: ${dir}/config.json not found`);
  const config = configFromHf(JSON.parse(configText));
  const weights = await readWeights(dir);
  const model = new Model(config, backend, weights.has("score.weight") ? "scalar" : "lm");
  for (const spec of model.layout.specs) {
    const entry = weights.get(spec.name);
    if (!entry) throw new Error(`checkpoint: tensor "${spec.name}" missing from ${dir}`);
    if (entry.shape.join(",") !== spec.shape.join(",")) {
      throw new Error(
        `checkpoint: "${spec.name}" has shape [${entry.shape}], config implies [${spec.shape}]`,
      );
    }
    model.setParam(spec.name, entry.toF32());
  }
  for (const name of weights.keys()) {
    const ignorable = name.endsWith("rotary_emb.inv_freq") ||
      (name === "lm_head.weight" && config.tie_word_embeddings);
    if (!model.layout.byName.has(name) && !ignorable) {
      throw new Error(`checkpoint: unexpected tensor "${name}" in ${dir} (not part of a Qwen2 model)`);
    }
  }
  let optimizerRestored = false;
  try {
    const opt = parseSafetensors(await Deno.readFile(`${dir}/${OPT_FILE}`));
    const step = Number(opt.metadata.step);
    const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
    for (const [name, entry] of opt.tensors) {
      if (name.startsWith("exp_avg_sq.")) v.set(name.slice(11), entry.toF32());
      else if (name.startsWith("exp_avg.")) m.set(name.slice(8), entry.toF32());
    }
    model.setOptimizerState({ step, m, v });
    optimizerRestored = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return { model, tokenizerJson: await readTextOrNull(`${dir}/tokenizer.json`), optimizerRestored };
}
