/**
 * Command-line flags from one table, shared by every CLI: parsing through `node:util`'s `parseArgs` and the
 * generated `--help`.
 *
 * ```ts
 * import { HELP_FLAG, parseFlags, usageText } from "./mod.ts";
 * const FLAGS = { ...HELP_FLAG, steps: { type: "string", arg: "N", help: "RL steps" } } as const;
 * const { values } = parseFlags(["--steps", "3"], FLAGS);
 * values.steps; // "3"
 * usageText("usage: train [flags]", FLAGS);
 * ```
 *
 * @module
 */

export {
  flagHelp,
  type FlagSpec,
  type FlagTable,
  type FlagToken,
  type FlagValues,
  HELP_FLAG,
  parseFlags,
  UsageError,
  usageText,
} from "./flags.ts";
