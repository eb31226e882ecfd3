/** Argument handling of `deno task ablate` (the runs themselves go through the same code as `deno task train`). */
import { assertEquals, assertThrows } from "@std/assert";
import { parseAblationArgs } from "../trainer/cli/ablate.ts";
import { ConfigError } from "../trainer/rl/config.ts";

Deno.test("ablate: own flags are split from the flags passed to every run", () => {
  const a = parseAblationArgs([
    "--seeds",
    "4,5",
    "--steps",
    "7",
    "--methods=oreal,rft",
    "--out",
    "/tmp/a",
    "--resume",
  ]);
  assertEquals(a, {
    seeds: [4, 5],
    methods: ["oreal", "rft"],
    out: "/tmp/a",
    resume: true,
    reportOnly: false,
    runArgs: ["--steps", "7"],
  });
  const d = parseAblationArgs(["--report-only"]);
  assertEquals([d.seeds, d.methods.length, d.out, d.reportOnly], [[1, 2, 3], 7, "runs/ablation", true]);
});

Deno.test("ablate: bad or conflicting flags are refused", () => {
  assertThrows(() => parseAblationArgs(["--methods", "ppo"]), ConfigError, "unknown method");
  assertThrows(() => parseAblationArgs(["--seeds", "x"]), ConfigError, "--seeds");
  assertThrows(() => parseAblationArgs(["--method", "grpo"]), ConfigError, "set by the ablation");
  assertThrows(() => parseAblationArgs(["--out"]), ConfigError, "needs a value");
});
