/**
 * A child process for `checkpoints_test.ts`: commits step checkpoints of run folder `Deno.args[0]` with
 * {@linkcode stepFiles}'s contents, continuing after the latest one, until step `Deno.args[1]` or until it is
 * killed. It prints `ready` once it has committed its first step.
 *
 * @module
 */

import { latestCheckpoint, StepCheckpoints } from "../checkpoints.ts";

/**
 * The files of step `step`: sizes that grow and shrink, a text that changes every 10 steps, a file every third
 * step and a subfolder every other pair of steps.
 */
export function stepFiles(step: number): Map<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>();
  files.set("model/weights.bin", new Uint8Array(1000 + 997 * (step % 7)).fill(step % 251));
  files.set("model/config.json", `{"version": ${Math.floor(step / 10)}}\n`);
  if (step % 3 === 0) files.set("third.txt", `step ${step}`.repeat(step % 5));
  if (step % 4 < 2) files.set("extra/data.bin", new Uint8Array(step % 3).fill(7));
  files.set("state.json", JSON.stringify({ step }));
  return files;
}

if (import.meta.main) {
  const [out, last] = [Deno.args[0], Number(Deno.args[1] ?? Infinity)];
  const latest = await latestCheckpoint(out);
  const checkpoints = new StepCheckpoints(out, latest?.dir ?? null);
  for (let step = (latest?.step ?? -1) + 1; step <= last; step++) {
    await checkpoints.commit(step, (folder) => {
      for (const [name, data] of stepFiles(step)) folder.put(name, data);
      return Promise.resolve();
    });
    if (step === (latest?.step ?? -1) + 1) console.log("ready");
  }
}
