import { assert, assertEquals } from "@std/assert";
import { runCurveSvg } from "./curve.ts";
import { type EvalMetrics, type EvalPoint, readMetrics, type StepMetrics } from "./metrics.ts";
import { StepLog } from "./step_log.ts";

const line = (step: number, evaluated = false) =>
  ({
    step,
    passRate: (step % 7) / 10,
    meanReward: (step % 5) / 5 - 0.5,
    rmAuc: step % 4 ? 0.5 + step / 100 : null,
    rmAucPooled: 0.6,
    omegaNegBefore: 0.2,
    omegaNegAfter: 0.7,
    ...(evaluated ? { eval: { pass1: step / 100 } as EvalMetrics } : {}),
  }) as StepMetrics;

const point = (step: number): EvalPoint => ({
  step,
  pass1: step / 100,
  passk: NaN,
  meank: null,
  pass1Ci95: [0, step / 50],
  meankCi95: null,
  faithfulness: null,
});

Deno.test("StepLog: metrics.jsonl gets every line; the curve from memory equals the curve from the file", async () => {
  const out = await Deno.makeTempDir();
  const log = new StepLog(out, { title: "run", k: 4, lines: [] });
  const evals = [point(0)];
  for (let step = 1; step <= 30; step++) {
    if (step % 10 === 0) evals.push(point(step));
    await log.add(line(step, step % 10 === 0), evals, step === 30);
  }
  const fromFile = await readMetrics(`${out}/metrics.jsonl`);
  assertEquals(fromFile.map((m) => m.step), Array.from({ length: 30 }, (_, i) => i + 1));
  assertEquals(log.lines, fromFile);
  assertEquals(await Deno.readTextFile(`${out}/curve.svg`), runCurveSvg("run", evals, fromFile, 4));
  await Deno.remove(out, { recursive: true });
});

Deno.test("StepLog: the curve is redrawn after an evaluation, at the last step and when redrawMs passed", async () => {
  const out = await Deno.makeTempDir();
  let now = 0;
  const log = new StepLog(out, { title: "run", k: 4, lines: [], redrawMs: 100, now: () => now });
  const evals = [point(0)];
  const curve = () => Deno.readTextFile(`${out}/curve.svg`);
  const drawnWith = async (steps: number) =>
    assertEquals(await curve(), runCurveSvg("run", evals, log.lines.slice(0, steps), 4));
  await log.add(line(1), evals, false);
  await drawnWith(1); // the first step of a process
  now = 50;
  await log.add(line(2), evals, false);
  await drawnWith(1);
  evals.push(point(3));
  await log.add(line(3, true), evals, false);
  await drawnWith(3);
  now = 149;
  await log.add(line(4), evals, false);
  await drawnWith(3);
  now = 150;
  await log.add(line(5), evals, false);
  await drawnWith(5);
  await log.add(line(6), evals, true);
  await drawnWith(6);
  await Deno.remove(out, { recursive: true });
});

Deno.test("StepLog: a resumed run's curve covers the steps before the resume", async () => {
  const out = await Deno.makeTempDir();
  const first = new StepLog(out, { title: "run", k: 2, lines: [] });
  const evals = [point(0)];
  for (let step = 1; step <= 4; step++) await first.add(line(step), evals, false);
  // The resume reads the file once and continues with its lines.
  const resumed = new StepLog(out, { title: "run", k: 2, lines: await readMetrics(`${out}/metrics.jsonl`) });
  for (let step = 5; step <= 8; step++) await resumed.add(line(step), evals, step === 8);
  const all = Array.from({ length: 8 }, (_, i) => line(i + 1));
  assertEquals(await readMetrics(`${out}/metrics.jsonl`), all);
  const svg = await Deno.readTextFile(`${out}/curve.svg`);
  assertEquals(svg, runCurveSvg("run", evals, all, 2));
  assert(svg !== runCurveSvg("run", evals, all.slice(4), 2));
  await Deno.remove(out, { recursive: true });
});
