/**
 * `deno task train`: supervised warm start, then OREAL (or a baseline), end to end. See `--help`.
 *
 * @module
 */

import { createBackend } from "../gpu/auto.ts";
import type { Backend } from "../gpu/backend.ts";
import { ConfigError, parseTrainArgs, type TrainConfig, USAGE } from "../rl/config.ts";
import { Reporter, stdoutSink } from "../rl/reporter.ts";
import { runTraining } from "../rl/train.ts";

/**
 * Makes the compute backend for `--backend` (auto: a hardware GPU when there is one, else the CPU), the CPU one
 * on `--threads` threads.
 */
export async function makeBackend(
  choice: TrainConfig["backend"],
  threads?: number,
): Promise<{ backend: Backend; name: string; adapter: string | null }> {
  try {
    const chosen = await createBackend(choice, { threads });
    return { backend: chosen.backend, name: chosen.name, adapter: chosen.adapter };
  } catch (e) {
    throw new ConfigError(`--backend ${choice}: ${(e as Error).message}`);
  }
}

/** Runs the CLI with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let config: TrainConfig;
  try {
    config = parseTrainArgs(args, { DATABASE_URL: Deno.env.get("DATABASE_URL") });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  try {
    await runTraining(config, {
      reporter: new Reporter(stdoutSink()),
      createBackend: (c) => makeBackend(c, config.threads),
    });
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
