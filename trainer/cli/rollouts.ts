/**
 * `deno task rollouts`: writes the rollouts of a run as JSONL (one stored rollout per line) to stdout.
 *
 *     deno task rollouts --run ID|NAME [--step N] [--correct|--wrong] [--kept] [--limit N]
 * @module
 */
import {
  integerFlag,
  LineWriter,
  parseStoreArgs,
  requireRun,
  runCli,
  storeUsage,
  UsageError,
  withStore,
} from "../store/mod.ts";

const FLAGS = {
  run: { type: "string", arg: "ID|NAME", help: "the run (id or name)" },
  step: { type: "string", arg: "N", help: "only step N" },
  correct: { type: "boolean", help: "only rollouts judged correct" },
  wrong: { type: "boolean", help: "only rollouts judged wrong" },
  kept: { type: "boolean", help: "only rollouts kept for the update" },
  limit: { type: "string", arg: "N", help: "at most N rollouts" },
} as const;

const USAGE = storeUsage(
  "Usage: deno task rollouts --run ID|NAME [--step N] [--correct|--wrong] [--kept] [--limit N] [options]\n\n" +
    "Writes the run's rollouts as JSON lines, in order of step, problem and sample index.",
  FLAGS,
);

/** Runs the CLI with `args`; returns the exit status. */
export function main(args: string[]): Promise<number> {
  return runCli(USAGE, async () => {
    const flags = parseStoreArgs(args, FLAGS);
    if (flags.help) return console.log(USAGE);
    const ref = flags.run;
    if (ref === undefined) throw new UsageError("--run is required");
    if (flags.correct && flags.wrong) throw new UsageError("--correct and --wrong exclude each other");
    const filter = {
      step: integerFlag("step", flags.step),
      limit: integerFlag("limit", flags.limit),
      correct: flags.correct ? true : flags.wrong ? false : undefined,
      kept: flags.kept ? true : undefined,
    };
    await withStore(flags, async (store) => {
      const run = await requireRun(store, ref);
      const out = new LineWriter();
      for await (const rollout of store.iterateRollouts(run.id, filter)) {
        await out.line(JSON.stringify(rollout));
      }
      await out.close();
    });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
