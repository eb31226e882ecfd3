import { assertEquals, assertThrows } from "@std/assert";
import { ConfigError, parseTrainArgs, PRESETS, USAGE } from "./config.ts";

Deno.test("defaults: tiny preset, oreal, runs/<name>, the project's store", () => {
  const c = parseTrainArgs([]);
  assertEquals(c.preset, "tiny");
  assertEquals(c.method, "oreal");
  assertEquals(c.seed, 1);
  assertEquals([c.name, c.defaultName], ["tiny-oreal-s1", true]);
  assertEquals([c.out, c.defaultOut], ["runs/tiny-oreal-s1", true]);
  assertEquals([c.databaseUrl, c.dataDir], [undefined, ".oreal/db"]);
  assertEquals(c.steps, PRESETS.tiny.steps);
  assertEquals(c.resume, false);
  // An empty DATABASE_URL is no URL.
  assertEquals(parseTrainArgs([], { DATABASE_URL: "" }).databaseUrl, undefined);
  const named = parseTrainArgs(["--name", "mine", "--out", "/tmp/o", "--data-dir", "/tmp/db"]);
  assertEquals([named.defaultName, named.defaultOut, named.dataDir], [false, false, "/tmp/db"]);
});

Deno.test("flags override the preset, in both --flag value and --flag=value forms", () => {
  const c = parseTrainArgs([
    "--method=grpo",
    "--steps",
    "7",
    "--prompts-per-step",
    "3",
    "--samples-per-prompt=5",
    "--lr",
    "1e-3",
    "--kl",
    "0",
    "--seed",
    "9",
    "--backend",
    "cpu",
    "--out",
    "/tmp/x",
    "--resume",
    "--sft-steps",
    "0",
    "--eval-every",
    "2",
    "--families",
    "add,sub",
    "--levels",
    "1,2",
  ], { DATABASE_URL: "postgres://u@h/db" });
  assertEquals(c.method, "grpo");
  assertEquals([c.steps, c.promptsPerStep, c.samplesPerPrompt, c.lr, c.minLr, c.kl], [
    7,
    3,
    5,
    1e-3,
    2e-4,
    0,
  ]);
  assertEquals([c.seed, c.backend, c.out, c.resume, c.sftSteps, c.evalEvery], [
    9,
    "cpu",
    "/tmp/x",
    true,
    0,
    2,
  ]);
  assertEquals(c.families, ["add", "sub"]);
  assertEquals(c.levels, [1, 2]);
  assertEquals(c.databaseUrl, "postgres://u@h/db");
  assertEquals(c.name, "tiny-grpo-s9");
});

Deno.test("--model selects the hf preset; --database-url beats the environment", () => {
  const c = parseTrainArgs(["--model", "/m", "--database-url", "postgres://a"], {
    DATABASE_URL: "postgres://b",
  });
  assertEquals(c.preset, "hf");
  assertEquals(c.modelDir, "/m");
  assertEquals(c.databaseUrl, "postgres://a");
  assertEquals(c.template, "qwen-math");
});

Deno.test("bad arguments give clear errors naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--method", "ppo"], /--method: expected one of oreal, oreal-oracle, oreal-no-rm/],
    [["--rm-head", "mlp"], /--rm-head: expected one of scalar, logratio, likelihood/],
    [["--rm-samples", "some"], /--rm-samples: expected pairs or all/],
    [["--omega-gate", "maybe"], /--omega-gate: expected off, auc or blend/],
    [["--top-p", "1.5"], /--top-p must be in/],
    [["--steps", "-1"], /--steps/],
    [["--steps", "1.5"], /--steps: expected an integer/],
    [["--lr", "0"], /--lr: expected a positive number/],
    [["--lr", "abc"], /--lr/],
    [["--backend", "tpu"], /--backend/],
    [["--threads", "0"], /--threads/],
    [["--bogus"], /unknown flag --bogus/],
    [["--steps"], /--steps needs a value/],
    [["stray"], /unexpected argument "stray"/],
    [["--preset", "huge"], /--preset/],
    [["--preset", "hf"], /needs --model/],
    [["--samples-per-prompt", "1"], /at least 2 samples/],
    [["--steps", "0", "--sft-steps", "0"], /nothing to do/],
    [["--name", "a/b"], /--name/],
    [["--levels", "1,x"], /--levels/],
  ];
  for (const [args, re] of cases) {
    const e = assertThrows(() => parseTrainArgs(args), ConfigError);
    if (!re.test(e.message)) {
      throw new Error(`${args.join(" ")}: message "${e.message}" does not match ${re}`);
    }
  }
});

Deno.test("--help lists every flag of the table", () => {
  for (
    const flag of [
      "--top-p",
      "--rm-head",
      "--rm-samples",
      "--rm-replay",
      "--omega-gate",
      "--sft-lr",
      "--pass-k",
    ]
  ) {
    if (!USAGE.includes(flag)) throw new Error(`USAGE lacks ${flag}`);
  }
});

Deno.test("--threads sets the CPU backend's thread count; absent, the backend picks the machine's cores", () => {
  assertEquals(parseTrainArgs(["--threads", "2"]).threads, 2);
  assertEquals(parseTrainArgs([]).threads, undefined);
});
