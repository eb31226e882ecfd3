import { assertEquals, assertStringIncludes } from "@std/assert";
import type { RunSummary, StepMetrics } from "./metrics.ts";
import { finalLine, formatDuration, formatStepLine, Reporter } from "./reporter.ts";

const metrics: StepMetrics = {
  step: 3,
  passRate: 0.375,
  meanReward: -0.25,
  pairsKept: 5,
  prompts: 8,
  updateSequences: 10,
  truncatedRate: 0,
  meanResponseTokens: 12,
  loss: 0.123456,
  lossPositive: 0.2,
  lossNegative: -0.08,
  lossKl: 0.0001,
  rmLoss: 0.69,
  kl: 0.0021,
  entropy: 1.234,
  gradNorm: 0.5,
  lr: 1e-4,
  policyUpdated: true,
  rmAuc: 0.7,
  rmAucPooled: 0.66,
  omegaTrust: 1,
  omegaPositive: 0.3,
  omegaNegative: 0.2,
  omegaNegBefore: 0.1,
  omegaNegAfter: 0.4,
  tokensPerSecond: { sampling: 1234.4, scoring: 5000, update: 2000 },
  stepSeconds: 2,
  elapsedSeconds: 6,
};

Deno.test("formatDuration", () => {
  assertEquals(formatDuration(42.2), "42s");
  assertEquals(formatDuration(187), "3m07s");
  assertEquals(formatDuration(3720), "1h02m");
  assertEquals(formatDuration(NaN), "?");
});

Deno.test("the step line carries every field of the status", () => {
  const line = formatStepLine(
    {
      ...metrics,
      eval: {
        pass1: 0.5,
        pass1Ci95: [0.3, 0.7],
        passK: 0.75,
        meanK: 0.55,
        meanKCi95: [0.4, 0.7],
        k: 4,
        problems: 20,
        faithfulness: 0.9,
      },
    },
    40,
    75,
  );
  for (
    const part of [
      "step  3/40",
      "pass  37.5%",
      "pairs 5/8",
      "loss 0.123 (pos 0.200 neg -0.080 kl 1.0e-4)",
      "KL 0.0021",
      "H 1.23",
      "tok/s 1234/5000/2000",
      "auc 0.66 trust 1.00 w- 0.10/0.40",
    ]
  ) assertStringIncludes(line, part);
  assertStringIncludes(line, "ETA 1m15s");
  assertStringIncludes(
    line,
    "eval pass@1 50.0% [30.0, 70.0], mean@4 55.0% [40.0, 70.0], pass@4 75.0%, chains right|correct 0.90 (20 problems)",
  );
  assertEquals(line.includes("\n"), false);
});

Deno.test("no TTY: plain lines only, progress is dropped; TTY: progress rewrites the line", () => {
  let plain = "";
  const r = new Reporter({ write: (t) => plain += t, isTerminal: false });
  r.progress("sampling 3/8");
  r.step(metrics, 10, 5);
  r.info("done");
  assertEquals(plain.includes("\r"), false);
  assertEquals(plain.split("\n").length, 3);
  let tty = "";
  const t = new Reporter({ write: (x) => tty += x, isTerminal: true });
  t.progress("sampling 3/8");
  t.step(metrics, 10, 5);
  assertStringIncludes(tty, "\r\x1b[2Ksampling 3/8\r\x1b[2Kstep");
  let quiet = "";
  new Reporter({ write: (x) => quiet += x, isTerminal: false }, true).info("x");
  assertEquals(quiet, "");
});

Deno.test("finalLine: SFT and final pass@1 with intervals, the gain's interval, best and RM AUC", () => {
  const s = {
    wall_seconds: 412.4,
    sft_pass1: 0.5,
    sft_pass1_ci95: [0.45, 0.55],
    final_pass1: 0.62,
    final_pass1_ci95: [0.57, 0.67],
    gain_ci95: [0.08, 0.16],
    best_pass1: 0.63,
    best_step: 200,
    final_rm_auc: 0.71,
  } as RunSummary;
  assertEquals(
    finalLine(s, "runs/x"),
    "done in 412 s: pass@1 50.0% [45.0, 55.0] (SFT) -> 62.0% [57.0, 67.0] (final), gain [8.0, 16.0] points, " +
      "best 63.0% at step 200, RM AUC 0.71; outputs in runs/x",
  );
  assertStringIncludes(finalLine({ ...s, final_rm_auc: null }, "o"), "step 200; outputs in o");
});
