/**
 * The command line of a benchmark script: parsed against its flag table (core/cli); `--help` prints the usage
 * generated from the table and exits, a bad flag prints the error and the usage and exits with status 2.
 */
import {
  type FlagTable,
  type FlagValues,
  HELP_FLAG,
  parseFlags,
  UsageError,
  usageText,
} from "../core/cli/mod.ts";

/** The values of `table`'s flags in `Deno.args` (and the positionals when `positionals` is set). */
export function benchFlags<const T extends FlagTable>(
  usage: string,
  table: T,
  options: { positionals?: boolean } = {},
): { values: FlagValues<T>; positionals: string[] } {
  const all = { ...table, ...HELP_FLAG };
  const text = usageText(usage, all);
  try {
    const { values, positionals } = parseFlags(Deno.args, all, options);
    if (values.help) {
      console.log(text);
      Deno.exit(0);
    }
    return { values: values as FlagValues<T>, positionals };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${text}`);
    Deno.exit(2);
  }
}
