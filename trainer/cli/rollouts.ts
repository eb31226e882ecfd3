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
  STORE_FLAGS_HELP,
  UsageError,
  withStore,
} from "../store/cli.ts";

const USAGE =
  `Usage: deno task rollouts --run ID|NAME [--step N] [--correct|--wrong] [--kept] [--limit N] [options]

Writes the run's rollouts as JSON lines, in order of step, problem and sample index.
  --run ID|NAME       the run (id or name)
  --step N            only step N
  --correct, --wrong  only rollouts judged correct / wrong
  --kept              only rollouts kept for the update
  --limit N           at most N rollouts
${STORE_FLAGS_HELP}`;

/** Runs the CLI with `args`; returns the exit status. */
export function main(args: string[]): Promise<number> {
  return runCli(USAGE, async () => {
    const flags = parseStoreArgs(args, {
      run: { type: "string" },
      step: { type: "string" },
      correct: { type: "boolean" },
      wrong: { type: "boolean" },
      kept: { type: "boolean" },
      limit: { type: "string" },
    });
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
