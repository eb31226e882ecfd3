/**
 * Configuration of a training run: the presets (`tiny`, `small`, a Hugging Face folder) and the command-line
 * flags of `deno task train`, with validation that names the offending flag.
 *
 * @module
 */

import {
  type FlagSpec,
  type FlagTable,
  HELP_FLAG,
  parseFlags,
  UsageError,
  usageText,
} from "../../core/cli/mod.ts";
import { isMethod, type Method, METHODS } from "../../core/oreal/mod.ts";
import { BACKEND_CHOICES, type BackendChoice } from "../gpu/auto.ts";
import type { ModelPresetName } from "../model/config.ts";
import { DEFAULT_DATA_DIR } from "../store/mod.ts";
import type { OmegaGate, RmSamples } from "./rl_step.ts";
import { RM_HEADS, type RmHead } from "./token_rm.ts";

export { type Method, METHODS };
/** `deno task train`'s presets (model, data and budget); `hf` is chosen by `--model DIR`. */
export type TrainPresetName = "tiny" | "small" | "hf";

/** Everything a run needs; every field has a preset default and most have a flag. */
export interface TrainConfig {
  /** Run name, unique in the store: the default output folder is `runs/<name>`. */
  name: string;
  /**
   * Whether `name` is the default `<preset>-<method>-s<seed>`: a fresh run then takes the first of `name`,
   * `name-2`, `name-3`, ... that the store does not hold yet.
   */
  defaultName: boolean;
  preset: TrainPresetName;
  /** Folder of a Hugging Face Qwen2 checkpoint (preset `hf`). */
  modelDir?: string;
  method: Method;
  seed: number;
  backend: BackendChoice;
  /** Threads of the CPU backend (default: the machine's cores). */
  threads?: number;
  /**
   * CPU backend: threads that decode the samples and evaluations side by side, each a part of the batch with its
   * own copy of the policy (the same tokens). Default: the backend's threads for the tiny and small presets, 1
   * (decoding on the backend's own threads) for a Hugging Face model. Ignored on WebGPU.
   */
  decodeThreads?: number;
  /** Output folder (files only: the run's rows go to the project's store). */
  out: string;
  /** Whether `out` is the default `runs/<name>`, which follows the name a fresh run takes. */
  defaultOut: boolean;
  resume: boolean;
  /** The store: PostgreSQL at `databaseUrl` when set, else PGlite in `dataDir` (default `.oreal/db`). */
  databaseUrl?: string;
  dataDir: string;
  /** JSONL problem file; absent: the synthetic generator. */
  data?: string;
  /** Generator families and levels used when `data` is absent (empty: the generator's defaults). */
  families: string[];
  levels: number[];
  /** Number of training problems and of held-out test problems. */
  trainProblems: number;
  testProblems: number;
  /** Model preset of trainer/model (`hf`: the shapes of `modelDir`). */
  modelPreset: ModelPresetName | "hf";
  /** Overrides of the tiny model's shape (width and depth); 0 keeps the preset's. */
  hiddenSize: number;
  layers: number;
  /** Supervised warm start. */
  sftSteps: number;
  /** Start from this SFT checkpoint folder (HF layout) instead of running SFT (the ablation shares one). */
  sftFrom?: string;
  sftBatch: number;
  sftLr: number;
  /** RL. */
  steps: number;
  promptsPerStep: number;
  samplesPerPrompt: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  maxGradNorm: number;
  kl: number;
  temperature: number;
  topP: number;
  topK: number;
  maxNewTokens: number;
  /** Token reward model: learning rate, its linear warm-up in steps, and the steps in which only the RM trains. */
  rmLr: number;
  rmLrWarmup: number;
  rmWarmupSteps: number;
  /** The RM trains on the update pairs ("pairs", the release) or on every response of mixed prompts ("all"). */
  rmSamples: RmSamples;
  /** How many earlier steps' RM batches are trained on again with each new one (0: the release). */
  rmReplay: number;
  /**
   * "auc": the policy uses the RM's token weights only once the RM's held-out AUC, pooled over the last
   * `rmWindow` steps, reaches `omegaGateAuc` (omega = 1 until then); "off": always (the release).
   */
  omegaGate: OmegaGate;
  omegaGateAuc: number;
  rmWindow: number;
  /** The token RM's form (see trainer/rl/token_rm.ts): "scalar" is the release's, the LM forms score tokens. */
  rmHead: RmHead;
  rmBeta: number;
  /** Evaluation every N RL steps (0: only at the start and the end), pass@k with `passK` samples. */
  evalEvery: number;
  passK: number;
  /** Prompt template. */
  template: "plain" | "qwen-math";
  /** Rollout worker processes spawned on this machine (absent or 0: sampling runs in this process). */
  rolloutWorkers?: number;
  /** Sample with rollout workers started elsewhere (`deno task rollout-worker`) as well. */
  externalWorkers?: boolean;
  /** With workers: the most optimizer steps a sampling policy may be behind (0, or 1 for one step of overlap). */
  maxPolicyLag?: number;
  /** CPU backend threads of each local rollout worker (default 1). */
  workerThreads?: number;
}

/**
 * Preset defaults. `tiny` (measured in docs/LEARNING.md): running sums of four terms with + and - (the `chain`
 * family, levels 1-2, whose chains are faithful), a 600-step SFT warm start that stops while greedy pass@1 is
 * still in the 40-70% range, then 400 OREAL steps of 16 prompts x 8 samples at the release's temperature 1.0 and
 * top-p 0.9, policy LR 1e-4 (higher rates made the negative terms collapse the tiny model). The token RM is the
 * "likelihood" form (beta 10, LR 1e-3): the release's zero-initialised scalar head stays at chance on this task
 * (`--rm-head scalar` restores it), and the AUC gate keeps omega at 1 until the RM's held-out AUC reaches 0.75: on
 * this task a less accurate RM's omega+ is so small that it switches behaviour cloning off.
 */
export const PRESETS: Record<
  TrainPresetName,
  Omit<TrainConfig, "name" | "defaultName" | "out" | "defaultOut" | "method" | "seed" | "resume" | "dataDir">
> = {
  tiny: {
    preset: "tiny",
    backend: "cpu",
    families: ["chain"],
    levels: [1, 2],
    trainProblems: 8000,
    testProblems: 1000,
    modelPreset: "tiny",
    hiddenSize: 0,
    layers: 0,
    sftSteps: 600,
    sftBatch: 16,
    sftLr: 5e-3,
    steps: 400,
    promptsPerStep: 16,
    samplesPerPrompt: 8,
    lr: 1e-4,
    minLr: 2e-5,
    warmupSteps: 2,
    weightDecay: 0.01,
    maxGradNorm: 1,
    kl: 0.01,
    temperature: 1,
    topP: 0.9,
    topK: 0,
    maxNewTokens: 48,
    rmLr: 1e-3,
    rmLrWarmup: 10,
    rmWarmupSteps: 10,
    rmSamples: "pairs",
    rmReplay: 0,
    omegaGate: "auc",
    omegaGateAuc: 0.75,
    rmWindow: 10,
    rmHead: "likelihood",
    rmBeta: 10,
    evalEvery: 50,
    passK: 4,
    template: "plain",
  },
  small: {
    preset: "small",
    backend: "auto",
    families: [],
    levels: [],
    trainProblems: 20000,
    testProblems: 300,
    modelPreset: "small",
    hiddenSize: 0,
    layers: 0,
    sftSteps: 600,
    sftBatch: 32,
    sftLr: 1e-3,
    steps: 200,
    promptsPerStep: 32,
    samplesPerPrompt: 16,
    lr: 1e-4,
    minLr: 2e-5,
    warmupSteps: 5,
    weightDecay: 0.01,
    maxGradNorm: 1,
    kl: 0.01,
    temperature: 1,
    topP: 0.9,
    topK: 0,
    maxNewTokens: 96,
    rmLr: 2e-4,
    rmLrWarmup: 10,
    rmWarmupSteps: 10,
    rmSamples: "pairs",
    rmReplay: 0,
    omegaGate: "auc",
    omegaGateAuc: 0.6,
    rmWindow: 10,
    rmHead: "scalar",
    rmBeta: 1,
    evalEvery: 20,
    passK: 8,
    template: "plain",
  },
  hf: {
    preset: "hf",
    backend: "auto",
    families: [],
    levels: [],
    trainProblems: 2000,
    testProblems: 200,
    modelPreset: "hf",
    hiddenSize: 0,
    layers: 0,
    sftSteps: 0,
    sftBatch: 8,
    sftLr: 1e-5,
    steps: 100,
    promptsPerStep: 16,
    samplesPerPrompt: 8,
    lr: 5e-7,
    minLr: 1e-7,
    warmupSteps: 0,
    weightDecay: 0.01,
    maxGradNorm: 1,
    kl: 0.01,
    temperature: 1,
    topP: 0.9,
    topK: 0,
    maxNewTokens: 512,
    rmLr: 2e-6,
    rmLrWarmup: 10,
    rmWarmupSteps: 10,
    rmSamples: "pairs",
    rmReplay: 0,
    omegaGate: "off",
    omegaGateAuc: 0.6,
    rmWindow: 10,
    rmHead: "scalar",
    rmBeta: 1,
    evalEvery: 20,
    passK: 8,
    template: "qwen-math",
  },
};

type Kind = "int" | "posint" | "num" | "posnum" | "str" | "list" | "intlist" | "bool";

/** One command-line flag: the configuration field it sets, how its value is read, and its help. */
interface TrainFlag {
  key: keyof TrainConfig | "preset" | "model";
  kind: Kind;
  /** Placeholder of the value in the help ("" for a switch). */
  arg: string;
  help: string;
}

/** Every flag of `deno task train`, in the order `--help` lists them. */
const TRAIN_FLAGS: Record<string, TrainFlag> = {
  "preset": { key: "preset", kind: "str", arg: "tiny|small", help: "model and budget preset (default tiny)" },
  "model": { key: "model", kind: "str", arg: "DIR", help: "a Hugging Face Qwen2/Qwen2.5 folder (preset hf)" },
  "method": { key: "method", kind: "str", arg: "M", help: `${METHODS.join("|")} (default oreal)` },
  "seed": {
    key: "seed",
    kind: "int",
    arg: "N",
    help: "seed of problems, initialisation and sampling (default 1)",
  },
  "backend": { key: "backend", kind: "str", arg: "B", help: "auto|webgpu|cpu" },
  "threads": {
    key: "threads",
    kind: "posint",
    arg: "N",
    help: "CPU backend threads (default: the machine's cores)",
  },
  "decode-threads": {
    key: "decodeThreads",
    kind: "posint",
    arg: "N",
    help: "CPU: decode samples on N threads, a part of the batch and a policy copy each (default: --threads)",
  },
  "out": { key: "out", kind: "str", arg: "DIR", help: "output folder (default runs/<name>)" },
  "name": {
    key: "name",
    kind: "str",
    arg: "NAME",
    help: "run name, unique in the store (default <preset>-<method>-s<seed>, -2, -3, ... added when taken)",
  },
  "resume": {
    key: "resume",
    kind: "bool",
    arg: "",
    help: "continue the run in --out from its last checkpoint",
  },
  "database-url": {
    key: "databaseUrl",
    kind: "str",
    arg: "URL",
    help: "PostgreSQL URL of the store (default: $DATABASE_URL; when neither is set, PGlite in --data-dir)",
  },
  "data-dir": {
    key: "dataDir",
    kind: "str",
    arg: "DIR",
    help:
      `PGlite folder of the store, shared with runs, rollouts and export-sft (default ${DEFAULT_DATA_DIR})`,
  },
  "data": {
    key: "data",
    kind: "str",
    arg: "FILE",
    help: "problems from a JSONL file instead of the generator",
  },
  "families": {
    key: "families",
    kind: "list",
    arg: "a,b",
    help: "generator families (chain, carry, addition, fraction, ...)",
  },
  "levels": { key: "levels", kind: "intlist", arg: "1,2", help: "generator levels" },
  "train-problems": {
    key: "trainProblems",
    kind: "posint",
    arg: "N",
    help: "training problems drawn (repeats removed)",
  },
  "test-problems": {
    key: "testProblems",
    kind: "posint",
    arg: "N",
    help: "held-out problems drawn (repeats removed)",
  },
  "hidden-size": { key: "hiddenSize", kind: "posint", arg: "N", help: "width of the tiny model" },
  "layers": { key: "layers", kind: "posint", arg: "N", help: "depth of the tiny model" },
  "sft-steps": { key: "sftSteps", kind: "int", arg: "N", help: "supervised warm-start steps (0: none)" },
  "sft-lr": { key: "sftLr", kind: "posnum", arg: "X", help: "supervised warm-start learning rate" },
  "sft-from": {
    key: "sftFrom",
    kind: "str",
    arg: "DIR",
    help: "start from this SFT checkpoint instead of running SFT",
  },
  "steps": { key: "steps", kind: "int", arg: "N", help: "RL steps" },
  "prompts-per-step": {
    key: "promptsPerStep",
    kind: "posint",
    arg: "N",
    help: "prompts sampled per RL step",
  },
  "samples-per-prompt": {
    key: "samplesPerPrompt",
    kind: "posint",
    arg: "K",
    help: "responses sampled per prompt",
  },
  "lr": { key: "lr", kind: "posnum", arg: "X", help: "policy learning rate (cosine to lr/5)" },
  "kl": { key: "kl", kind: "num", arg: "X", help: "KL coefficient to the reference model (0 drops it)" },
  "temperature": { key: "temperature", kind: "posnum", arg: "X", help: "sampling temperature" },
  "top-p": { key: "topP", kind: "posnum", arg: "X", help: "nucleus sampling threshold (1: off)" },
  "max-new-tokens": { key: "maxNewTokens", kind: "posint", arg: "N", help: "response length limit" },
  "rm-lr": { key: "rmLr", kind: "posnum", arg: "X", help: "token RM learning rate (cosine to rm-lr/5)" },
  "rm-lr-warmup": {
    key: "rmLrWarmup",
    kind: "int",
    arg: "N",
    help: "linear warm-up of the token RM learning rate, in steps",
  },
  "rm-warmup-steps": {
    key: "rmWarmupSteps",
    kind: "int",
    arg: "N",
    help: "first steps in which only the token RM trains",
  },
  "rm-samples": {
    key: "rmSamples",
    kind: "str",
    arg: "pairs|all",
    help: "token RM trains on the update pairs or on all responses of mixed prompts",
  },
  "rm-replay": {
    key: "rmReplay",
    kind: "int",
    arg: "N",
    help: "earlier steps' RM batches trained on again with each step (0: none)",
  },
  "omega-gate": {
    key: "omegaGate",
    kind: "str",
    arg: "off|auc|blend",
    help: "trust in the RM's omega: auc = none until the pooled held-out AUC reaches --omega-gate-auc; " +
      "blend = (AUC - 0.5) / (threshold - 0.5); off = full (the release)",
  },
  "omega-gate-auc": {
    key: "omegaGateAuc",
    kind: "posnum",
    arg: "X",
    help: "AUC at which the RM's token weights are trusted",
  },
  "rm-head": {
    key: "rmHead",
    kind: "str",
    arg: "scalar|logratio|likelihood",
    help: "token RM form: zero-initialised scalar head; or an LM copy scored beta (log pi_rm - log pi_sft) " +
      "or beta log pi_rm + b",
  },
  "rm-beta": { key: "rmBeta", kind: "posnum", arg: "X", help: "beta of the logratio token RM" },
  "rm-window": { key: "rmWindow", kind: "posint", arg: "N", help: "steps pooled into the RM's held-out AUC" },
  "eval-every": {
    key: "evalEvery",
    kind: "int",
    arg: "N",
    help: "evaluate every N RL steps (0: only at the start and the end)",
  },
  "pass-k": { key: "passK", kind: "posint", arg: "K", help: "samples per problem for mean@k and pass@k" },
  "rollout-workers": {
    key: "rolloutWorkers",
    kind: "int",
    arg: "N",
    help: "sample in N worker processes on this machine (needs PostgreSQL; 0: in this process)",
  },
  "external-workers": {
    key: "externalWorkers",
    kind: "bool",
    arg: "",
    help: "sample with workers started elsewhere (deno task rollout-worker; needs PostgreSQL)",
  },
  "max-policy-lag": {
    key: "maxPolicyLag",
    kind: "int",
    arg: "0|1",
    help: "with workers: 1 samples the next step while this one updates (responses 1 step old)",
  },
  "worker-threads": { key: "workerThreads", kind: "posint", arg: "N", help: "CPU threads per local worker" },
};

/** The flag table of `deno task train` (`--help` included), for `parseFlags` and the usage text. */
export const FLAGS: FlagTable = {
  ...Object.fromEntries(
    Object.entries(TRAIN_FLAGS).map(([name, f]) => [
      name,
      {
        type: f.kind === "bool" ? "boolean" : "string",
        arg: f.arg,
        help: f.help,
      } satisfies FlagSpec,
    ]),
  ),
  ...HELP_FLAG,
};

/** Usage text printed by `--help` and with argument errors, generated from the flag table. */
export const USAGE: string = usageText("Usage: deno task train [flags]", FLAGS) + "\n";

/** An argument error: the CLI prints its message and the usage, and exits with status 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function parseValue(flag: string, kind: Kind, raw: string): unknown {
  const bad = (what: string) => new ConfigError(`--${flag}: expected ${what}, got "${raw}"`);
  switch (kind) {
    case "int":
    case "posint": {
      if (!/^-?\d+$/.test(raw)) throw bad(kind === "int" ? "an integer" : "a positive integer");
      const n = Number(raw);
      if (n < 0 || (kind === "posint" && n === 0)) {
        throw bad(kind === "int" ? "a non-negative integer" : "a positive integer");
      }
      return n;
    }
    case "num":
    case "posnum": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n) || n < 0 || (kind === "posnum" && n === 0)) {
        throw bad(kind === "num" ? "a non-negative number" : "a positive number");
      }
      return n;
    }
    case "list":
      return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "intlist":
      return raw.split(",").map((s) => {
        if (!/^\d+$/.test(s.trim())) throw bad("a comma-separated list of integers");
        return Number(s);
      });
    case "str":
      if (raw === "") throw bad("a non-empty value");
      return raw;
    case "bool":
      return raw !== "false";
  }
}

/** Parses `--flag value` / `--flag=value` arguments into raw values keyed by flag name. */
function parseRaw(args: readonly string[]): Map<string, string> {
  let values: Record<string, unknown>;
  try {
    values = parseFlags(args, FLAGS).values;
  } catch (e) {
    if (e instanceof UsageError) throw new ConfigError(e.message);
    throw e;
  }
  const out = new Map<string, string>();
  for (const [flag, value] of Object.entries(values)) {
    if (flag !== "help" && value !== undefined) out.set(flag, String(value));
  }
  return out;
}

/**
 * Builds the configuration of a run from command-line arguments (`--help` is handled by the CLI).
 * `env` supplies `DATABASE_URL` when `--database-url` is absent. Throws {@linkcode ConfigError}.
 */
export function parseTrainArgs(args: readonly string[], env: { DATABASE_URL?: string } = {}): TrainConfig {
  const raw = parseRaw(args);
  const model = raw.get("model");
  const presetName = raw.get("preset") ?? (model ? "hf" : "tiny");
  if (presetName !== "tiny" && presetName !== "small" && presetName !== "hf") {
    throw new ConfigError(`--preset: expected tiny or small, got "${presetName}"`);
  }
  if (presetName === "hf" && !model) throw new ConfigError("--preset hf needs --model DIR");
  const values: Record<string, unknown> = {};
  for (const [flag, text] of raw) {
    if (flag === "preset" || flag === "model") continue;
    values[TRAIN_FLAGS[flag].key] = parseValue(flag, TRAIN_FLAGS[flag].kind, text);
  }
  const method = (values.method as string | undefined) ?? "oreal";
  if (!isMethod(method)) {
    throw new ConfigError(`--method: expected one of ${METHODS.join(", ")}, got "${method}"`);
  }
  const backend = values.backend as string | undefined;
  if (backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(backend)) {
    throw new ConfigError(`--backend: expected one of ${BACKEND_CHOICES.join(", ")}, got "${backend}"`);
  }
  const seed = (values.seed as number | undefined) ?? 1;
  const base = PRESETS[presetName];
  const name = (values.name as string | undefined) ?? `${presetName}-${method}-s${seed}`;
  if (!/^[\w.-]+$/.test(name)) {
    throw new ConfigError(`--name: use letters, digits, "-", "_" or ".", got "${name}"`);
  }
  const config: TrainConfig = {
    ...base,
    ...(values as Partial<TrainConfig>),
    preset: presetName,
    method,
    seed,
    name,
    defaultName: values.name === undefined,
    out: (values.out as string | undefined) ?? `runs/${name}`,
    defaultOut: values.out === undefined,
    resume: (values.resume as boolean | undefined) ?? false,
    databaseUrl: (values.databaseUrl as string | undefined) ?? (env.DATABASE_URL || undefined),
    dataDir: (values.dataDir as string | undefined) ?? DEFAULT_DATA_DIR,
  };
  if (model) config.modelDir = model;
  if (config.lr !== base.lr && values.lr !== undefined) config.minLr = config.lr / 5;
  validateConfig(config);
  return config;
}

/** Checks the cross-field constraints of a configuration; throws {@linkcode ConfigError}. */
export function validateConfig(config: TrainConfig): void {
  if (config.rmSamples !== "pairs" && config.rmSamples !== "all") {
    throw new ConfigError(`--rm-samples: expected pairs or all, got "${config.rmSamples}"`);
  }
  if (!RM_HEADS.includes(config.rmHead)) {
    throw new ConfigError(`--rm-head: expected one of ${RM_HEADS.join(", ")}, got "${config.rmHead}"`);
  }
  if (!["off", "auc", "blend"].includes(config.omegaGate)) {
    throw new ConfigError(`--omega-gate: expected off, auc or blend, got "${config.omegaGate}"`);
  }
  if (config.omegaGateAuc > 1) throw new ConfigError("--omega-gate-auc must be at most 1");
  if (config.topP > 1) throw new ConfigError("--top-p must be in (0, 1]");
  if (config.samplesPerPrompt < 2 && config.method !== "reinforce" && config.method !== "rft") {
    throw new ConfigError(`--samples-per-prompt: ${config.method} needs at least 2 samples per prompt`);
  }
  if ((config.hiddenSize || config.layers) && config.preset !== "tiny") {
    throw new ConfigError("--hidden-size / --layers change the tiny model only");
  }
  if (config.hiddenSize % 8 !== 0) {
    throw new ConfigError("--hidden-size must be a multiple of 8 (4 heads of even size)");
  }
  if (config.passK < 1) throw new ConfigError("--pass-k must be at least 1");
  if (config.minLr > config.lr) throw new ConfigError("min LR exceeds --lr");
  const workers = (config.rolloutWorkers ?? 0) > 0 || config.externalWorkers === true;
  if (workers && config.databaseUrl === undefined) {
    throw new ConfigError(
      "--rollout-workers / --external-workers need a PostgreSQL server (--database-url or DATABASE_URL): " +
        "the embedded PGlite database serves one process only",
    );
  }
  if ((config.maxPolicyLag ?? 0) > 1) throw new ConfigError("--max-policy-lag: expected 0 or 1");
  if ((config.maxPolicyLag ?? 0) > 0 && !workers) {
    throw new ConfigError(
      "--max-policy-lag needs rollout workers (--rollout-workers N or --external-workers)",
    );
  }
  if (config.steps === 0 && config.sftSteps === 0) {
    throw new ConfigError("nothing to do: --steps and --sft-steps are both 0");
  }
}
