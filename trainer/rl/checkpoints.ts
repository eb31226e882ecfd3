/**
 * Step-boundary checkpoints of a run, safe against a kill at any instant: each step's files are written to a
 * folder `ckpt/step-N.tmp`, renamed to `ckpt/step-N`, and only then does `latest.json` (written through a rename)
 * point to it. A resume reads `latest.json`, so it always sees a complete checkpoint; the first commit of a
 * process removes every other folder (leftovers of an interrupted commit).
 *
 * A commit happens at every RL step, so it is kept cheap. The previous step's folder stays until the next commit,
 * which renames it to its `.tmp` name and overwrites its files in place: the same files of the same sizes each
 * step, so no folder or file is created or deleted, a file's data goes into blocks it already has, and a text
 * file that has not changed (a model's config and tokenizer files) is not written at all. `ckpt/` thus holds the
 * latest checkpoint and the one before it. The step folder's file operations are synchronous: an asynchronous one
 * costs a hop to another thread and back, and the run waits for the commit anyway.
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

/** Where a commit puts its files. */
export interface StepFolder {
  /** Writes file `name` (a path relative to the step's folder, e.g. `policy/model.safetensors`). */
  put(name: string, data: string | Uint8Array): void;
}

/** A file this process wrote: its length in bytes, and its text if it is a text file. */
interface WrittenFile {
  size: number;
  text: string | null;
}

/** A folder this process committed and its files, by path relative to it. */
interface Written {
  dir: string;
  files: Map<string, WrittenFile>;
}

const encoder = new TextEncoder();

/** The step checkpoints of the run in one folder, committed by this process. */
export class StepCheckpoints {
  /** The run folder. */
  readonly out: string;
  /** The folder of the checkpoint the run resumed from (null: a fresh run, or once it is removed). */
  #resumedFrom: string | null;
  /** Whether this process committed a step (and so removed the leftovers of earlier processes). */
  #started = false;
  /** The latest folder this process committed, and the one before it, whose files the next commit reuses. */
  #current: Written | null = null;
  #spare: Written | null = null;

  /** Checkpoints of the run in folder `out`, resumed from the checkpoint in folder `resumedFrom` if given. */
  constructor(out: string, resumedFrom: string | null = null) {
    this.out = out;
    this.#resumedFrom = resumedFrom;
  }

  /**
   * Writes the checkpoint of `step`: `write` puts its files into the temporary folder, which is then renamed and
   * made the latest. Returns the final folder.
   */
  async commit(step: number, write: (folder: StepFolder) => Promise<void>): Promise<string> {
    if (!this.#started) {
      pruneCheckpoints(this.out, this.#resumedFrom);
      this.#started = true;
    }
    const dir = checkpointDir(this.out, step);
    const tmp = `${dir}.tmp`;
    const reused = this.#spare;
    this.#spare = null;
    if (reused) Deno.renameSync(reused.dir, tmp);
    else Deno.mkdirSync(tmp, { recursive: true });
    const before = reused?.files ?? new Map<string, WrittenFile>();
    const files = new Map<string, WrittenFile>();
    await write({
      put: (name, data) => {
        if (files.has(name)) throw new Error(`checkpoint: file ${name} put twice`);
        const old = before.get(name);
        const text = typeof data === "string" ? data : null;
        if (old && text !== null && old.text === text) {
          files.set(name, old);
          return;
        }
        const bytes = text === null ? data as Uint8Array : encoder.encode(text);
        files.set(name, { size: bytes.length, text });
        const slash = name.lastIndexOf("/");
        if (!old && slash > 0) Deno.mkdirSync(`${tmp}/${name.slice(0, slash)}`, { recursive: true });
        writeInPlace(`${tmp}/${name}`, bytes, old?.size ?? 0);
      },
    });
    // A file of the reused folder that this step does not have must not pass for one of its files.
    for (const name of before.keys()) if (!files.has(name)) Deno.removeSync(`${tmp}/${name}`);
    const kept = subfolders(files.keys());
    for (const sub of subfolders(before.keys())) {
      if (!kept.has(sub)) Deno.removeSync(`${tmp}/${sub}`, { recursive: true });
    }
    Deno.renameSync(tmp, dir);
    await writeFileAtomic(
      `${this.out}/latest.json`,
      JSON.stringify({ step, name: `step-${pad(step)}` }) + "\n",
    );
    if (this.#resumedFrom !== null) Deno.removeSync(this.#resumedFrom, { recursive: true });
    this.#resumedFrom = null;
    this.#spare = this.#current;
    this.#current = { dir, files };
    return dir;
  }
}

/** The top-level subfolders of relative file paths `names`. */
function subfolders(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const name of names) if (name.includes("/")) out.add(name.slice(0, name.indexOf("/")));
  return out;
}

/**
 * Writes `bytes` to `path`, into the file of `size` bytes there if there is one: its blocks are reused, and it is
 * cut to the new length only if that is shorter (cutting a file to zero makes ext4 flush it to disk).
 */
function writeInPlace(path: string, bytes: Uint8Array, size: number): void {
  const file = Deno.openSync(path, { write: true, create: true });
  try {
    for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
    if (size > bytes.length) file.truncateSync(bytes.length);
  } finally {
    file.close();
  }
}

/** Removes every folder under `out/ckpt` but `keep` (interrupted writes and superseded steps). */
function pruneCheckpoints(out: string, keep: string | null): void {
  const root = `${out}/ckpt`;
  try {
    for (const entry of Deno.readDirSync(root)) {
      const path = `${root}/${entry.name}`;
      if (path !== keep) Deno.removeSync(path, { recursive: true });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
