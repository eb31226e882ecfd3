/**
 * `deno task export-sft`: exports every correct, complete rollout of a run (judged correct, ended by a stop
 * token) as an SFT / RFT data set: JSONL with `prompt` and `response`, plus where each example came from
 * (`problemSource`, `problemId`, `step`, `sampleIndex`).
 *
 *     deno task export-sft --run ID|NAME [--out FILE]
 * @module
 */
import {
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
  out: { type: "string", arg: "FILE", help: "write to FILE instead of stdout" },
} as const;

const USAGE = storeUsage(
  "Usage: deno task export-sft --run ID|NAME [--out FILE] [options]\n\n" +
    "Writes the run's correct rollouts that ended with a stop token as JSON lines\n" +
    '{"prompt", "response", "problemSource", "problemId", "step", "sampleIndex"}.',
  FLAGS,
);

/** Runs the CLI with `args`; returns the exit status. */
export function main(args: string[]): Promise<number> {
  return runCli(USAGE, async () => {
    const flags = parseStoreArgs(args, FLAGS);
    if (flags.help) return console.log(USAGE);
    const ref = flags.run;
    if (ref === undefined) throw new UsageError("--run is required");
    await withStore(flags, async (store) => {
      const run = await requireRun(store, ref);
      const file = flags.out === undefined
        ? null
        : await Deno.open(flags.out, { write: true, create: true, truncate: true });
      const out = new LineWriter(file?.writable);
      let count = 0;
      for await (const example of store.sftExamples(run.id)) {
        await out.line(JSON.stringify(example));
        count++;
      }
      await out.close();
      console.error(`exported ${count} examples of run ${run.id} (${run.name}) to ${flags.out ?? "stdout"}`);
    });
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
