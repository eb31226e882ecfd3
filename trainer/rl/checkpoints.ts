/**
 * Step-boundary checkpoints of a run, safe against a kill at any instant: each step's state is written to a
 * fresh folder `ckpt/step-N.tmp`, renamed to `ckpt/step-N`, and only then does `latest.json` (written through a
 * rename) point to it; older folders are removed afterwards. A resume reads `latest.json`, so it always sees a
 * complete checkpoint, and leftover folders of an interrupted write are cleared.
 *
 * @module
 */

import { writeFileAtomic } from "./metrics.ts";

/** The latest checkpoint: its step and folder (`latest.json` stores the folder's name, relative to `ckpt/`). */
export interface LatestPointer {
  step: number;
  dir: string;
}

const pad = (step: number) => String(step).padStart(6, "0");

/** The folder of step `step`'s checkpoint under `out`. */
export function checkpointDir(out: string, step: number): string {
  return `${out}/ckpt/step-${pad(step)}`;
}

/** The latest complete checkpoint of the run in `out`, or null when there is none. */
export async function latestCheckpoint(out: string): Promise<LatestPointer | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${out}/latest.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const p = JSON.parse(text) as { step: number; name: string };
  if (!Number.isInteger(p.step) || typeof p.name !== "string") {
    throw new Error(`${out}/latest.json is malformed`);
  }
  return { step: p.step, dir: `${out}/ckpt/${p.name}` };
}

/**
 * Writes the checkpoint of `step`: `write(dir)` fills a temporary folder, which is then renamed and made the
 * latest; every other folder under `ckpt/` is removed. Returns the final folder.
 */
export async function commitCheckpoint(
  out: string,
  step: number,
  write: (dir: string) => Promise<void>,
): Promise<string> {
  const dir = checkpointDir(out, step);
  const tmp = `${dir}.tmp`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  await write(tmp);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, dir);
  await writeFileAtomic(`${out}/latest.json`, JSON.stringify({ step, name: `step-${pad(step)}` }) + "\n");
  await pruneCheckpoints(out, dir);
  return dir;
}

/** Removes every folder under `out/ckpt` but `keep` (interrupted writes and superseded steps). */
export async function pruneCheckpoints(out: string, keep: string): Promise<void> {
  const root = `${out}/ckpt`;
  try {
    for await (const entry of Deno.readDir(root)) {
      const path = `${root}/${entry.name}`;
      if (path !== keep) await Deno.remove(path, { recursive: true });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
