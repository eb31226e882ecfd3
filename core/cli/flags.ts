/**
 * Command-line flags from one table: the table gives `node:util`'s `parseArgs` its options and generates the
 * `--help` text, so the two cannot disagree. Bad command lines become a {@linkcode UsageError} whose message
 * names the flag (`unknown flag --x`, `--steps needs a value`, ...).
 *
 * @module
 */

import { parseArgs } from "node:util";

/** One flag: a switch (`boolean`) or a flag with a value (`string`), and its line of help. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** Placeholder of the value in the help (`N`, `DIR`); "" or absent for a switch. */
  arg?: string;
  /** One-letter alias (`h` for `-h`). */
  short?: string;
  /** Whether the flag may be repeated (its values come back as a list). */
  multiple?: boolean;
  /** The value when the flag is absent (the help then ends with it). */
  default?: string;
  help: string;
}

/** Flags by name (without the leading `--`), in the order the help lists them. */
export type FlagTable = Record<string, FlagSpec>;

/** The `--help` / `-h` switch that every CLI has. */
export const HELP_FLAG: {
  readonly help: { readonly type: "boolean"; readonly short: "h"; readonly help: string };
} = {
  help: { type: "boolean", short: "h", help: "this help" },
};

/** A bad command line: the CLI prints the message (and its usage) and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The value type of each flag of `T`. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K]["type"] extends "boolean" ? (T[K]["multiple"] extends true ? boolean[] : boolean)
    : (T[K]["multiple"] extends true ? string[] : string);
};

/** One parsed option as it appeared: its name, the index of the flag in `args`, and whether its value was inline. */
export interface FlagToken {
  name: string;
  index: number;
  /** The index of the last argument the option used (`index + 1` for `--flag value`). */
  end: number;
}

/** The help lines of `table`: the flag and its placeholder in a column `width` wide, then the help. */
export function flagHelp(table: FlagTable, width = 28): string {
  return Object.entries(table).map(([name, spec]) => {
    const left = `  ${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.arg ? ` ${spec.arg}` : ""}`;
    const pad = left.length < width ? left.padEnd(width) : `${left}\n${"".padEnd(width)}`;
    return `${pad} ${spec.help}${spec.default !== undefined ? ` (default ${spec.default})` : ""}`;
  }).join("\n");
}

/** A usage text: the `usage:` line(s), the generated flag help, and an optional closing paragraph. */
export function usageText(usage: string, table: FlagTable, after = ""): string {
  return `${usage}\n\n${flagHelp(table)}${after ? `\n\n${after}` : ""}`;
}

/** The flag an error of `parseArgs` is about, in `--name` form, from its message (bounded, no backtracking). */
function flagOf(message: string): string | null {
  const at = message.indexOf("'-");
  if (at < 0) return null;
  const end = message.slice(at + 1).search(/['\s]/);
  return end < 0 ? null : message.slice(at + 1, at + 1 + end);
}

/**
 * Parses `args` against `table` (strict: an unknown flag, a missing value or a value given to a switch is a
 * {@linkcode UsageError}). Positionals are refused unless `positionals` is set.
 */
export function parseFlags<const T extends FlagTable>(
  args: readonly string[],
  table: T,
  options: { positionals?: boolean } = {},
): { values: FlagValues<T>; positionals: string[]; tokens: FlagToken[] } {
  const config: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string }
  > = {};
  for (const [name, spec] of Object.entries(table)) {
    config[name] = { type: spec.type, multiple: spec.multiple ?? false };
    if (spec.short) config[name].short = spec.short;
    if (spec.default !== undefined) config[name].default = spec.default;
  }
  try {
    const parsed = parseArgs({
      args: [...args],
      options: config,
      strict: true,
      allowPositionals: options.positionals ?? false,
      tokens: true,
    });
    const tokens: FlagToken[] = [];
    for (const t of parsed.tokens ?? []) {
      if (t.kind !== "option") continue;
      const separate = t.value !== undefined && !t.inlineValue;
      tokens.push({ name: t.name, index: t.index, end: separate ? t.index + 1 : t.index });
    }
    return { values: parsed.values as FlagValues<T>, positionals: parsed.positionals, tokens };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message;
    const flag = flagOf(message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown flag ${flag ?? message}`);
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const at = message.indexOf("'"), end = message.indexOf("'", at + 1);
      throw new UsageError(
        at >= 0 && end > at ? `unexpected argument "${message.slice(at + 1, end)}"` : message,
      );
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag !== null) {
      const name = flag.replace(/^-+/, "");
      const spec = table[name] ?? Object.values(table).find((s) => s.short === name);
      if (spec?.type === "boolean") throw new UsageError(`${flag} takes no value`);
      // parseArgs reads `--n -1` as a flag without its value; `--n=-1` passes a value that starts with "-".
      const dash = message.includes("ambiguous")
        ? ` (write ${flag}=VALUE for a value starting with "-")`
        : "";
      throw new UsageError(`${flag} needs a value${dash}`);
    }
    throw new UsageError(message);
  }
}
