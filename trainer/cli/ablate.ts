/**
 * `deno task ablate`: runs the methods (OREAL, OREAL with oracle token weights, OREAL without the token RM, GRPO,
 * REINFORCE with ±1 and with 0/1 rewards, RFT) with the same seeds, problems, SFT model and number of sampled
 * responses, and writes `ablation.md` (pass@1 and diagnostics by method, mean and 95% interval across seeds),
 * `ablation.svg` (the same as bars with error bars) and `ablation_curve.svg` (pass@1 against step). Other flags
 * are passed to every run. Runs are named `<out folder>-<method>-s<seed>`, so two ablations can share a database.
 *
 * Usage: `deno task ablate --help`.
 *
 * @module
 */

import { ablationCurveSvg, ablationMarkdown, ablationSvg } from "../rl/ablation.ts";
import {
  flagHelp,
  type FlagTable,
  HELP_FLAG,
  parseFlags,
  UsageError,
  usageText,
} from "../../core/cli/mod.ts";
import { ConfigError, FLAGS, type Method, METHODS, parseTrainArgs } from "../rl/config.ts";
import type { RunSummary } from "../rl/metrics.ts";
import { Reporter, stdoutSink } from "../rl/reporter.ts";
import { runTraining } from "../rl/train.ts";
import { makeBackend } from "./train.ts";

/** The ablation's own flags, split from the flags passed to each run. */
export interface AblationArgs {
  seeds: number[];
  methods: Method[];
  out: string;
  resume: boolean;
  /** Only write the report from the runs that have finished (nothing is trained). */
  reportOnly: boolean;
  runArgs: string[];
}

/** The ablation's own flags; every other flag of `deno task train` goes to each run. */
const ABLATION_FLAGS = {
  seeds: { type: "string", arg: "1,2,3", help: "seeds; each trains every method (default 1,2,3)" },
  methods: { type: "string", arg: "a,b", help: `methods to compare (default ${METHODS.join(",")})` },
  out: { type: "string", arg: "DIR", help: "folder of the runs and the report (default runs/ablation)" },
  resume: { type: "boolean", help: "reuse finished runs and resume interrupted ones" },
  "report-only": { type: "boolean", help: "only write the report from the runs that have finished" },
} as const satisfies FlagTable;

/** Train flags the ablation sets itself for each run. */
const SET_PER_RUN = ["method", "seed", "name", "sft-from"];

/** Usage text of `deno task ablate`, generated from its flag table and the train flags'. */
export const ABLATION_USAGE: string = usageText(
  "Usage: deno task ablate [flags] [train flags]",
  { ...ABLATION_FLAGS, ...HELP_FLAG },
  `Train flags (passed to every run):\n${
    flagHelp(Object.fromEntries(
      Object.entries(FLAGS).filter(([f]) =>
        !SET_PER_RUN.includes(f) && !(f in ABLATION_FLAGS) && f !== "help"
      ),
    ))
  }`,
);

/** Parses the ablation's arguments; throws {@linkcode ConfigError}. */
export function parseAblationArgs(args: readonly string[]): AblationArgs {
  let parsed;
  try {
    parsed = parseFlags(args, { ...FLAGS, ...ABLATION_FLAGS });
  } catch (e) {
    if (e instanceof UsageError) throw new ConfigError(e.message);
    throw e;
  }
  const { values, tokens } = parsed;
  for (const t of tokens) {
    if (SET_PER_RUN.includes(t.name)) {
      throw new ConfigError(`--${t.name} is set by the ablation itself (use --methods / --seeds)`);
    }
  }
  // Every argument that is not one of the ablation's own flags (or its value) goes to each run.
  const own = new Set<number>();
  for (const t of tokens) {
    if (t.name in ABLATION_FLAGS) { for (let i = t.index; i <= t.end; i++) own.add(i); }
  }
  const result: AblationArgs = {
    seeds: [1, 2, 3],
    methods: [...METHODS],
    out: (values.out as string | undefined) ?? "runs/ablation",
    resume: values.resume === true,
    reportOnly: values["report-only"] === true,
    runArgs: args.filter((_, i) => !own.has(i)),
  };
  const seeds = values.seeds as string | undefined;
  if (seeds !== undefined) {
    result.seeds = seeds.split(",").map((s) => {
      if (!/^\d+$/.test(s.trim())) throw new ConfigError(`--seeds: expected integers, got "${seeds}"`);
      return Number(s);
    });
  }
  const methods = values.methods as string | undefined;
  if (methods !== undefined) {
    result.methods = methods.split(",").map((m) => {
      if (!(METHODS as readonly string[]).includes(m)) {
        throw new ConfigError(`--methods: unknown method "${m}" (expected some of ${METHODS.join(", ")})`);
      }
      return m as Method;
    });
  }
  return result;
}

/** Runs the ablation; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(ABLATION_USAGE);
    return 0;
  }
  let ab: AblationArgs;
  try {
    ab = parseAblationArgs(args);
    // Validate the run flags once before anything starts.
    parseTrainArgs(ab.runArgs, {});
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const reporter = new Reporter(stdoutSink());
  const summaries: RunSummary[] = [];
  const t0 = performance.now();
  for (const seed of ab.seeds) {
    let sftDir: string | null = null;
    for (const method of ab.methods) {
      const dirName = `${method}-s${seed}`;
      const out = `${ab.out}/${dirName}`;
      const name = `${ab.out.replace(/\/+$/, "").split("/").pop()}-${dirName}`;
      const summaryPath = `${out}/summary.json`;
      const done = await Deno.readTextFile(summaryPath).then((t) => JSON.parse(t) as RunSummary).catch(() =>
        null
      );
      if (ab.reportOnly) {
        if (done) summaries.push(done);
        else reporter.info(`${dirName}: not finished, left out of the report`);
        continue;
      }
      if (done && ab.resume) {
        reporter.info(`${name}: already finished, reusing ${summaryPath}`);
        summaries.push(done);
        sftDir ??= `${out}/sft`;
        continue;
      }
      const runArgs = [
        ...ab.runArgs,
        "--method",
        method,
        "--seed",
        String(seed),
        "--name",
        name,
        "--out",
        out,
      ];
      if (sftDir) runArgs.push("--sft-from", sftDir);
      let resume = false;
      try {
        await Deno.stat(`${out}/latest.json`);
        resume = ab.resume;
      } catch { /* a fresh run */ }
      if (resume) runArgs.push("--resume");
      const config = parseTrainArgs(runArgs, { DATABASE_URL: Deno.env.get("DATABASE_URL") });
      reporter.info(`\n=== ablation: ${name} ===`);
      summaries.push(
        await runTraining(config, { reporter, createBackend: (c) => makeBackend(c, config.threads) }),
      );
      sftDir ??= `${out}/sft`;
    }
  }
  if (summaries.length === 0) {
    console.error(`error: no finished run in ${ab.out} to report`);
    return 1;
  }
  const command = `deno task ablate ${args.join(" ")}`.trim();
  const header = [
    `Command: \`${command}\` (${((performance.now() - t0) / 60000).toFixed(1)} min).`,
    `Seeds ${
      ab.seeds.join(", ")
    }; every method of a seed starts from the same SFT model, samples the same number ` +
    `of responses per step, and is evaluated greedily on the same held-out problems.`,
  ];
  await Deno.writeTextFile(`${ab.out}/ablation.md`, ablationMarkdown(summaries, header));
  await Deno.writeTextFile(`${ab.out}/ablation.svg`, ablationSvg(summaries));
  await Deno.writeTextFile(`${ab.out}/ablation_curve.svg`, ablationCurveSvg(summaries));
  reporter.info(`wrote ${ab.out}/ablation.md, ablation.svg (bars) and ablation_curve.svg`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
