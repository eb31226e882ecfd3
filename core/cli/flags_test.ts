import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { flagHelp, HELP_FLAG, parseFlags, UsageError, usageText } from "./flags.ts";

const TABLE = {
  steps: { type: "string", arg: "N", help: "RL steps" },
  resume: { type: "boolean", help: "continue" },
  ...HELP_FLAG,
} as const;

Deno.test("parseFlags: both value forms, switches, -h, and which arguments each option used", () => {
  const { values, tokens } = parseFlags(["--steps", "4", "--resume", "-h"], TABLE);
  assertEquals(values, { steps: "4", resume: true, help: true });
  assertEquals(tokens, [
    { name: "steps", index: 0, end: 1 },
    { name: "resume", index: 2, end: 2 },
    { name: "help", index: 3, end: 3 },
  ]);
  assertEquals(parseFlags(["--steps=5"], TABLE).values.steps, "5");
  assertEquals(parseFlags(["a", "b"], TABLE, { positionals: true }).positionals, ["a", "b"]);
});

Deno.test("parseFlags: bad command lines name the flag", () => {
  const cases: [string[], string][] = [
    [["--bogus"], "unknown flag --bogus"],
    [["-x"], "unknown flag -x"],
    [["--steps"], "--steps needs a value"],
    [["--steps", "--resume"], "--steps needs a value"],
    [["--steps", "-1"], 'write --steps=VALUE for a value starting with "-"'],
    [["--resume=1"], "--resume takes no value"],
    [["extra"], 'unexpected argument "extra"'],
  ];
  for (const [args, message] of cases) assertThrows(() => parseFlags(args, TABLE), UsageError, message);
});

Deno.test("usageText: one generated line per flag", () => {
  const help = flagHelp(TABLE);
  assertEquals(help.split("\n").length, 3);
  assertStringIncludes(help, "  --steps N");
  assertStringIncludes(help, "  -h, --help");
  assertStringIncludes(usageText("usage: x", TABLE, "more"), "usage: x\n\n  --steps N");
});
