/**
 * `deno task export-sft`: exports every correct, complete rollout of a run (judged correct, ended by a stop
 * token) as an SFT / RFT data set: JSONL with `prompt` and `response`, plus where each example came from
 * (`problemSource`, `problemId`, `step`, `sampleIndex`).
 *
 *     deno task export-sft --run ID|NAME [--out FILE]
 * @module
 */
import { parseArgs } from "node:util";
import {
  LineWriter,
  runCli,
  STORE_FLAGS,
  STORE_FLAGS_HELP,
  storeOptionsFromFlags,
  UsageError,
} from "../store/cli.ts";
import { openStore } from "../store/store.ts";

const USAGE = `Usage: deno task export-sft --run ID|NAME [--out FILE] [options]

Writes the run's correct rollouts that ended with a stop token as JSON lines
{"prompt", "response", "problemSource", "problemId", "step", "sampleIndex"}.
  --run ID|NAME       the run (id or name)
  --out FILE          write to FILE instead of stdout
${STORE_FLAGS_HELP}`;

/** Runs the CLI with `args`; returns the exit status. */
export function main(args: string[]): Promise<number> {
  return runCli(USAGE, async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: { ...STORE_FLAGS, run: { type: "string" }, out: { type: "string" } },
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const flags = parsed.values;
    if (flags.help) return console.log(USAGE);
    if (flags.run === undefined) throw new UsageError("--run is required");
    const store = await openStore(storeOptionsFromFlags(flags));
    try {
      const run = await store.findRun(flags.run);
      if (run === null) throw new UsageError(`no run "${flags.run}" in ${store.target}`);
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
    } finally {
      await store.close();
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
