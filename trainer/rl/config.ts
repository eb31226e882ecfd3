/**
 * Configuration of a training run: the presets (`tiny`, `small`, a Hugging Face folder) and the command-line
 * flags of `deno task train`, with validation that names the offending flag.
 *
 * @module
 */

import { isMethod, type Method, METHODS } from "../../core/oreal/mod.ts";

export { type Method, METHODS };
/** Compute backends `createBackend` understands. */
export const BACKENDS = ["auto", "webgpu", "cpu"] as const;
/** One of {@linkcode BACKENDS}. */
export type BackendChoice = typeof BACKENDS[number];
/** Preset names; `hf` is chosen by `--model DIR`. */
export type PresetName = "tiny" | "small" | "hf";

/** Everything a run needs; every field has a preset default and most have a flag. */
export interface TrainConfig {
  /** Run name: the default output folder is `runs/<name>`. */
  name: string;
  preset: PresetName;
  /** Folder of a Hugging Face Qwen2 checkpoint (preset `hf`). */
  modelDir?: string;
  method: Method;
  seed: number;
  backend: BackendChoice;
  /** Threads of the CPU backend (absent: the machine's cores). */
  threads?: number;
  /** Output folder. */
  out: string;
  resume: boolean;
  databaseUrl?: string;
  /** JSONL problem file; absent: the synthetic generator. */
  data?: string;
  /** Generator families and levels used when `data` is absent (empty: the generator's defaults). */
  families: string[];
  levels: number[];
  /** Number of training problems and of held-out test problems. */
  trainProblems: number;
  testProblems: number;
  /** Model preset name of trainer/model (ignored with `modelDir`). */
  modelPreset: string;
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
  /** Token reward model: learning rate and the number of steps in which only the RM is updated. */
  rmLr: number;
  rmWarmupSteps: number;
  /** Evaluation every N RL steps (0: only at the start and the end), pass@k with `passK` samples. */
  evalEvery: number;
  passK: number;
  /** Prompt template. */
  template: "plain" | "qwen-math";
}

/**
 * Preset defaults. `tiny` is tuned to finish SFT + RL within 10 minutes on a 2-core CPU: same-denominator
 * fraction addition (short, locally learnable answers; about 24 held-out problems, so 400 test draws keep them
 * all), SFT stopped early on purpose so that sampled pass@k exceeds greedy pass@1, then many cheap RL steps
 * at temperature 0.7 for RL to turn pass@k into pass@1.
 */
export const PRESETS: Record<PresetName, Omit<TrainConfig, "name" | "out" | "method" | "seed" | "resume">> = {
  tiny: {
    preset: "tiny",
    backend: "cpu",
    families: ["fraction"],
    levels: [1],
    trainProblems: 2000,
    testProblems: 400,
    modelPreset: "tiny",
    hiddenSize: 0,
    layers: 0,
    sftSteps: 160,
    sftBatch: 16,
    sftLr: 5e-3,
    steps: 250,
    promptsPerStep: 16,
    samplesPerPrompt: 8,
    lr: 2e-4,
    minLr: 4e-5,
    warmupSteps: 2,
    weightDecay: 0.01,
    maxGradNorm: 1,
    kl: 0.01,
    temperature: 0.7,
    topP: 1,
    topK: 0,
    maxNewTokens: 48,
    rmLr: 1e-2,
    rmWarmupSteps: 5,
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
    rmWarmupSteps: 10,
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
    rmWarmupSteps: 10,
    evalEvery: 20,
    passK: 8,
    template: "qwen-math",
  },
};

/** Usage text printed by `--help` and with argument errors. */
export const USAGE = `Usage: deno task train [flags]

  --preset tiny|small      model and budget preset (default tiny)
  --model DIR              a Hugging Face Qwen2/Qwen2.5 folder (preset hf)
  --method M               ${METHODS.join("|")} (default oreal)
  --steps N                RL steps
  --prompts-per-step N     prompts sampled per RL step
  --samples-per-prompt K   responses sampled per prompt
  --lr X                   policy learning rate (cosine to lr/5)
  --kl X                   KL coefficient to the reference model (0 drops it)
  --seed N                 seed of problems, initialisation and sampling (default 1)
  --backend B              auto|webgpu|cpu
  --threads N              CPU backend threads (default: the machine's cores)
  --data FILE.jsonl        problems from a JSONL file instead of the generator
  --families a,b           generator families     --levels 1,2   generator levels
  --hidden-size N --layers N   width and depth of the tiny model
  --sft-steps N            supervised warm-start steps (0: none)
  --sft-from DIR           start from this SFT checkpoint instead of running SFT
  --eval-every N           evaluate pass@1 / pass@k every N RL steps
  --max-new-tokens N       response length limit
  --out DIR                output folder (default runs/<name>)
  --name NAME              run name (default <preset>-<method>-s<seed>)
  --resume                 continue the run in --out from its last checkpoint
  --database-url URL       Postgres URL (default: embedded PGlite in <out>/db, or $DATABASE_URL)
`;

/** An argument error: the CLI prints its message and the usage, and exits with status 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Kind = "int" | "posint" | "num" | "posnum" | "str" | "list" | "intlist" | "bool";
const FLAGS: Record<string, { key: keyof TrainConfig | "preset" | "model"; kind: Kind }> = {
  "preset": { key: "preset", kind: "str" },
  "model": { key: "model", kind: "str" },
  "method": { key: "method", kind: "str" },
  "steps": { key: "steps", kind: "int" },
  "prompts-per-step": { key: "promptsPerStep", kind: "posint" },
  "samples-per-prompt": { key: "samplesPerPrompt", kind: "posint" },
  "lr": { key: "lr", kind: "posnum" },
  "kl": { key: "kl", kind: "num" },
  "seed": { key: "seed", kind: "int" },
  "backend": { key: "backend", kind: "str" },
  "threads": { key: "threads", kind: "posint" },
  "data": { key: "data", kind: "str" },
  "families": { key: "families", kind: "list" },
  "levels": { key: "levels", kind: "intlist" },
  "train-problems": { key: "trainProblems", kind: "posint" },
  "test-problems": { key: "testProblems", kind: "posint" },
  "hidden-size": { key: "hiddenSize", kind: "posint" },
  "layers": { key: "layers", kind: "posint" },
  "sft-steps": { key: "sftSteps", kind: "int" },
  "sft-lr": { key: "sftLr", kind: "posnum" },
  "sft-from": { key: "sftFrom", kind: "str" },
  "eval-every": { key: "evalEvery", kind: "int" },
  "pass-k": { key: "passK", kind: "posint" },
  "max-new-tokens": { key: "maxNewTokens", kind: "posint" },
  "temperature": { key: "temperature", kind: "posnum" },
  "rm-warmup-steps": { key: "rmWarmupSteps", kind: "int" },
  "rm-lr": { key: "rmLr", kind: "posnum" },
  "out": { key: "out", kind: "str" },
  "name": { key: "name", kind: "str" },
  "resume": { key: "resume", kind: "bool" },
  "database-url": { key: "databaseUrl", kind: "str" },
};

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
function parseFlags(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = FLAGS[flag];
    if (!spec) throw new ConfigError(`unknown flag --${flag}`);
    if (eq >= 0) out.set(flag, arg.slice(eq + 1));
    else if (spec.kind === "bool") out.set(flag, "true");
    else {
      if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
        throw new ConfigError(`--${flag} needs a value`);
      }
      out.set(flag, args[++i]);
    }
  }
  return out;
}

/**
 * Builds the configuration of a run from command-line arguments (`--help` is handled by the CLI).
 * `env` supplies `DATABASE_URL` when `--database-url` is absent. Throws {@linkcode ConfigError}.
 */
export function parseTrainArgs(args: readonly string[], env: { DATABASE_URL?: string } = {}): TrainConfig {
  const raw = parseFlags(args);
  const model = raw.get("model");
  const presetName = raw.get("preset") ?? (model ? "hf" : "tiny");
  if (presetName !== "tiny" && presetName !== "small" && presetName !== "hf") {
    throw new ConfigError(`--preset: expected tiny or small, got "${presetName}"`);
  }
  if (presetName === "hf" && !model) throw new ConfigError("--preset hf needs --model DIR");
  const values: Record<string, unknown> = {};
  for (const [flag, text] of raw) {
    if (flag === "preset" || flag === "model") continue;
    values[FLAGS[flag].key] = parseValue(flag, FLAGS[flag].kind, text);
  }
  const method = (values.method as string | undefined) ?? "oreal";
  if (!isMethod(method)) {
    throw new ConfigError(`--method: expected one of ${METHODS.join(", ")}, got "${method}"`);
  }
  const backend = values.backend as string | undefined;
  if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend)) {
    throw new ConfigError(`--backend: expected one of ${BACKENDS.join(", ")}, got "${backend}"`);
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
    out: (values.out as string | undefined) ?? `runs/${name}`,
    resume: (values.resume as boolean | undefined) ?? false,
    databaseUrl: (values.databaseUrl as string | undefined) ?? env.DATABASE_URL,
  };
  if (model) config.modelDir = model;
  if (config.lr !== base.lr && values.lr !== undefined) config.minLr = config.lr / 5;
  validateConfig(config);
  return config;
}

/** Checks the cross-field constraints of a configuration; throws {@linkcode ConfigError}. */
export function validateConfig(config: TrainConfig): void {
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
  if (config.steps === 0 && config.sftSteps === 0) {
    throw new ConfigError("nothing to do: --steps and --sft-steps are both 0");
  }
}
