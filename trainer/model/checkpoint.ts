/**
 * Checkpoints in the Hugging Face layout: `model.safetensors` (f32, f16 or bf16), `config.json` (`model_type`
 * qwen2, with the special token ids), and with a tokenizer `tokenizer.json`, `tokenizer_config.json` (special
 * tokens, chat template) and `generation_config.json` (every EOS id), so that transformers loads the folder
 * complete; for exact resumption also `optimizer.safetensors` (AdamW moments by parameter name and the step
 * count). Loading also reads real Hugging Face Qwen2 / Qwen2.5 folders (f32, f16 or bf16; tied or untied; one
 * file or shards with `model.safetensors.index.json`).
 *
 * @module
 */

import {
  type FolderTokenizer,
  type Tokenizer,
  type TokenizerConfig,
  tokenizerConfigFor,
  tokenizerFromFiles,
} from "../../core/tokenizer/mod.ts";
import type { Backend } from "../gpu/backend.ts";
import { configFromHf, configToHf, type HfDtype } from "./config.ts";
import { Model } from "./model.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type SafetensorsEntry,
  type TensorToWrite,
} from "./safetensors.ts";

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveOptions {
  /**
   * The model's tokenizer: writes `tokenizer.json`, `tokenizer_config.json` and `generation_config.json`, and its
   * bos / eos / pad ids into `config.json`. Omitted: no tokenizer files.
   */
  tokenizer?: Tokenizer;
  /** The chat template the model was trained with (`tokenizer_config.json`'s `chat_template`). */
  chatTemplate?: string | null;
  /** The source folder's tokenizer_config.json, whose other fields are kept. */
  tokenizerConfig?: TokenizerConfig;
  /** The source folder's generation_config.json, whose other fields (sampling defaults) are kept. */
  generationConfig?: Record<string, unknown>;
  /** Storage type of the weights (default "f32"). f16 refuses weights beyond ±65504. */
  dtype?: "f32" | "f16" | "bf16";
  /** Also write the AdamW state (default false). */
  optimizer?: boolean;
  /** Extra `config.json` fields. */
  extraConfig?: Record<string, unknown>;
}

const DTYPES = {
  f32: { file: "F32", hf: "float32" },
  f16: { file: "F16", hf: "float16" },
  bf16: { file: "BF16", hf: "bfloat16" },
} as const satisfies Record<string, { file: string; hf: HfDtype }>;

/** What {@linkcode loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  model: Model;
  /** Contents of `tokenizer.json`, or null when the folder has none. */
  tokenizerJson: string | null;
  /** Whether AdamW state was found and restored. */
  optimizerRestored: boolean;
}

const OPT_FILE = "optimizer.safetensors";

/** One file of a checkpoint folder: its name and contents (text for the JSON files, bytes for the tensors). */
export interface CheckpointFile {
  name: string;
  data: string | Uint8Array;
}

/** Writes `model` (and optionally its optimiser state and tokenizer) to folder `dir`, created if needed. */
export async function saveCheckpoint(dir: string, model: Model, opts: SaveOptions = {}): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const { name, data } of checkpointFiles(model, opts)) {
    if (typeof data === "string") await Deno.writeTextFile(`${dir}/${name}`, data);
    else await Deno.writeFile(`${dir}/${name}`, data);
  }
  if (!opts.optimizer) await Deno.remove(`${dir}/${OPT_FILE}`).catch(() => {});
}

/**
 * The files {@linkcode saveCheckpoint} writes for `model`: `model.safetensors`, `config.json`, with a tokenizer
 * `tokenizer.json`, `tokenizer_config.json` and `generation_config.json`, and with `optimizer`
 * `optimizer.safetensors`, one at a time (a large model's files are not all held at once). For writers that
 * store them their own way (the step checkpoints of a run).
 */
export async function* checkpointFiles(model: Model, opts: SaveOptions = {}): AsyncGenerator<CheckpointFile> {
  const dtype = opts.dtype ?? "f32";
  const tensors: TensorToWrite[] = [];
  for (const spec of model.layout.specs) {
    tensors.push({ name: spec.name, shape: spec.shape, data: await model.getParam(spec.name) });
  }
  yield { name: "model.safetensors", data: encodeSafetensors(tensors, DTYPES[dtype].file, { format: "pt" }) };
  tensors.length = 0; // the downloaded weights are garbage from here on
  const architecture = model.head === "scalar" ? "Qwen2ForTokenClassification" : "Qwen2ForCausalLM";
  const tok = opts.tokenizer;
  const ids = tok ? specialIds(tok) : {};
  const config = configToHf(model.config, {
    dtype: DTYPES[dtype].hf,
    architecture,
    extra: {
      ...(tok ? { ...ids, eos_token_id: tok.eosId } : {}),
      ...(model.head === "scalar" ? { num_labels: 1 } : {}),
      ...opts.extraConfig,
    },
  });
  yield { name: "config.json", data: jsonText(config) };
  if (tok) {
    yield { name: "tokenizer.json", data: tokenizerJsonText(tok) };
    yield {
      name: "tokenizer_config.json",
      data: jsonText(tokenizerConfigFor(tok, {
        chatTemplate: opts.chatTemplate ?? undefined,
        modelMaxLength: model.config.max_position_embeddings,
        base: opts.tokenizerConfig,
      })),
    };
    // generate() stops at every id listed here (one id is written as a number, as transformers does).
    const eos = tok.stopIds.length === 1 ? tok.stopIds[0] : [...tok.stopIds];
    yield {
      name: "generation_config.json",
      data: jsonText({ ...opts.generationConfig, ...ids, eos_token_id: eos }),
    };
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
    yield { name: OPT_FILE, data: encodeSafetensors(moments, "F32", { step: String(state.step) }) };
  }
}

// A tokenizer never changes, so its tokenizer.json text is made once per process: a run saves its checkpoint
// many times, and Qwen's 151k-token tokenizer takes 0.15 s to serialise.
const tokenizerTexts = new WeakMap<Tokenizer, string>();

function tokenizerJsonText(tok: Tokenizer): string {
  let text = tokenizerTexts.get(tok);
  if (text === undefined) tokenizerTexts.set(tok, text = JSON.stringify(tok.toJSON()));
  return text;
}

function specialIds(tok: Tokenizer): Record<string, number> {
  return { ...(tok.bosId === null ? {} : { bos_token_id: tok.bosId }), pad_token_id: tok.padId };
}

function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
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

async function readJsonOrUndefined(path: string): Promise<unknown> {
  const text = await readTextOrNull(path);
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * The tokenizer of model folder `dir` (see `tokenizerFromFiles`): `tokenizer.json` is required;
 * `tokenizer_config.json`, `generation_config.json`, `config.json` and `chat_template.jinja` are read when there.
 */
export async function loadFolderTokenizer(dir: string): Promise<FolderTokenizer> {
  // As text: tokenizerFromFiles then parses it once and keeps the object without copying it.
  const tokenizer = await readTextOrNull(`${dir}/tokenizer.json`);
  if (tokenizer === null) throw new Error(`${dir}/tokenizer.json not found`);
  return tokenizerFromFiles({
    tokenizer,
    tokenizerConfig: await readJsonOrUndefined(`${dir}/tokenizer_config.json`),
    generationConfig: await readJsonOrUndefined(`${dir}/generation_config.json`),
    config: await readJsonOrUndefined(`${dir}/config.json`),
    chatTemplate: (await readTextOrNull(`${dir}/chat_template.jinja`)) ?? undefined,
  });
}
