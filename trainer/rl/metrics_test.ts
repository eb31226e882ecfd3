import { assertEquals, assertRejects } from "@std/assert";
import {
  appendMetrics,
  PhaseClock,
  readMetrics,
  type StepMetrics,
  writeMetrics,
  writeSummary,
} from "./metrics.ts";

Deno.test("metrics.jsonl: append, read back, a cut last line is ignored, rewrite keeps the given lines", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/metrics.jsonl`;
  assertEquals(await readMetrics(path), []);
  const line = (step: number) => ({ step, passRate: step / 10 }) as unknown as StepMetrics;
  appendMetrics(path, line(1));
  appendMetrics(path, line(2));
  await Deno.writeTextFile(path, '{"step": 3, "pa', { append: true });
  assertEquals((await readMetrics(path)).map((m) => m.step), [1, 2]);
  await writeMetrics(path, [line(1)]);
  assertEquals((await readMetrics(path)).map((m) => m.step), [1]);
  await Deno.writeTextFile(
    path,
    "garbage\n" + JSON.stringify(line(1)) + "\n" + JSON.stringify(line(2)) + "\n",
  );
  await assertRejects(() => readMetrics(path), Error, "metrics.jsonl:1");
  await writeSummary(`${dir}/summary.json`, { method: "oreal" } as never);
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)).method, "oreal");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("PhaseClock accumulates seconds and tokens and restores", async () => {
  const clock = new PhaseClock();
  const v = await clock.time("sampling", () => 7, (n) => n * 2);
  assertEquals(v, 7);
  assertEquals(clock.phases.sampling.tokens, 14);
  const copy = new PhaseClock();
  copy.restore(clock.toJSON());
  assertEquals(copy.phases.sampling.tokens, 14);
  assertEquals(copy.rates().update, 0);
});
