/**
 * `deno task runs`: lists the runs of the store, as a table or (with `--json`) one JSON object per line.
 *
 *     deno task runs [--json] [--database-url URL] [--data-dir DIR]
 * @module
 */
import { LineWriter, parseStoreArgs, runCli, type RunListing, storeUsage, withStore } from "../store/mod.ts";

const FLAGS = {
  json: {
    type: "boolean",
    help: "one JSON object per run and line (id, name, method, status, steps, lastStep, lastPassRate, " +
      "createdAt, codeRevision)",
  },
} as const;

const USAGE = storeUsage(
  "Usage: deno task runs [--json] [options]\n\nLists the runs: id, name, method, status, steps, last step, last pass rate.",
  FLAGS,
);

/** The runs as an aligned text table, one row per run under a header. */
export function formatRunsTable(runs: readonly RunListing[]): string {
  const header = ["id", "name", "method", "status", "steps", "last step", "pass rate", "created"];
  const rows = runs.map((r) => [
    String(r.id),
    r.name,
    r.method,
    r.status,
    String(r.steps),
    r.lastStep === null ? "-" : String(r.lastStep),
    r.lastPassRate === null ? "-" : `${(100 * r.lastPassRate).toFixed(1)}%`,
    r.createdAt.toISOString().slice(0, 16).replace("T", " "),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const numeric = new Set([0, 4, 5, 6]);
  return [header, ...rows].map((row) =>
    row.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ")
      .trimEnd()
  ).join("\n");
}

/** Runs the CLI with `args`; returns the exit status. */
export function main(args: string[]): Promise<number> {
  return runCli(USAGE, async () => {
    const flags = parseStoreArgs(args, FLAGS);
    if (flags.help) return console.log(USAGE);
    const { runs, target } = await withStore(flags, async (store) => ({
      runs: await store.listRuns(),
      target: store.target,
    }));
    const out = new LineWriter();
    if (flags.json) {
      for (const r of runs) await out.line(JSON.stringify(r));
    } else if (runs.length === 0) {
      await out.line(`no runs in ${target}`);
    } else {
      await out.line(formatRunsTable(runs));
    }
    await out.close();
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
