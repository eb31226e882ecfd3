/**
 * Policy versions for rollout workers: the trainer writes each version it publishes to a folder of its run
 * (`policies/v-000012/`, a Hugging Face model folder with the tokenizer), renamed into place once complete, and
 * records the folder with a content hash; a worker checks the hash before it samples with the version, so it
 * never samples with a half-written, stale or foreign folder.
 *
 * A worker on another machine reads the folder through a shared mount; `--mount FROM=TO` maps the trainer's
 * path prefix to the worker's.
 * @module
 */
import type { FolderTokenizer } from "../../core/tokenizer/mod.ts";
import type { Backend } from "../gpu/backend.ts";
import {
  loadCheckpoint,
  loadFolderTokenizer,
  saveCheckpoint,
  type SaveOptions,
} from "../model/checkpoint.ts";
import type { Model } from "../model/model.ts";

/** A path prefix of the trainer's machine (`from`) and where the same files are on this one (`to`). */
export interface PathMount {
  from: string;
  to: string;
}

/** A published version does not match its recorded hash, or its folder cannot be read. */
export class PolicyUnavailableError extends Error {
  override name = "PolicyUnavailableError";
}

/** The folder name of version `version` under a run's policy folder. */
export function versionFolder(version: number): string {
  return `v-${String(version).padStart(6, "0")}`;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The content hash of a model folder: SHA-256 of the list `name NUL sha256(file) LF` of its files, by name.
 * Subfolders are not part of a model folder and are refused.
 */
export async function folderHash(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) throw new PolicyUnavailableError(`policy folder holds a non-file entry "${e.name}"`);
    names.push(e.name);
  }
  names.sort();
  let manifest = "";
  for (const name of names) {
    manifest += `${name}\0${
      hex(await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/${name}`)))
    }\n`;
  }
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(manifest)));
}

/**
 * Writes `model` (weights, config and tokenizer files; no optimizer state) as version `version` under `root`:
 * into a temporary folder first, renamed into place when complete. Returns its absolute path and hash.
 */
export async function writePolicyVersion(
  root: string,
  version: number,
  model: Model,
  files: SaveOptions,
): Promise<{ path: string; sha256: string }> {
  await Deno.mkdir(root, { recursive: true });
  const path = await Deno.realPath(root) + `/${versionFolder(version)}`;
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await saveCheckpoint(tmp, model, { ...files, optimizer: false });
  const sha256 = await folderHash(tmp);
  await Deno.remove(path, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, path);
  return { path, sha256 };
}

/** Removes the version folders under `root` below version `keepFrom` (and leftovers of interrupted writes). */
export async function pruneVersions(root: string, keepFrom: number): Promise<void> {
  for await (const e of Deno.readDir(root)) {
    const m = /^v-(\d{6})(\.tmp-[0-9a-f]{8})?$/.exec(e.name);
    if (m && (m[2] !== undefined || Number(m[1]) < keepFrom)) {
      await Deno.remove(`${root}/${e.name}`, { recursive: true }).catch(() => {});
    }
  }
}

/** Parses a `--mount FROM=TO` value. */
export function parseMount(text: string): PathMount {
  const eq = text.indexOf("=");
  if (eq <= 0 || eq === text.length - 1) throw new RangeError(`--mount: expected FROM=TO, got "${text}"`);
  return { from: text.slice(0, eq).replace(/\/+$/, ""), to: text.slice(eq + 1).replace(/\/+$/, "") };
}

/** The path of `path` on this machine: the first mount whose `from` is a whole-component prefix is applied. */
export function mapPath(path: string, mounts: readonly PathMount[]): string {
  for (const m of mounts) {
    if (path === m.from || path.startsWith(`${m.from}/`)) return m.to + path.slice(m.from.length);
  }
  return path;
}

/** A policy version loaded for sampling. */
export interface LoadedPolicy {
  model: Model;
  tokenizer: FolderTokenizer;
}

/**
 * Loads a published version: checks the folder's content hash against `sha256` first, then loads the model
 * and its tokenizer onto `backend`.
 */
export async function loadPolicyVersion(
  published: { path: string; sha256: string },
  backend: Backend,
  mounts: readonly PathMount[] = [],
): Promise<LoadedPolicy> {
  const dir = mapPath(published.path, mounts);
  let actual: string;
  try {
    actual = await folderHash(dir);
  } catch (e) {
    if (e instanceof PolicyUnavailableError) throw e;
    throw new PolicyUnavailableError(
      `cannot read the policy folder ${dir}${
        mounts.length === 0 ? " (on another machine, see --mount)" : ""
      }: ` +
        (e instanceof Error ? e.message : String(e)),
    );
  }
  if (actual !== published.sha256) {
    throw new PolicyUnavailableError(
      `the policy folder ${dir} does not match its published hash (${actual.slice(0, 12)} against ` +
        `${published.sha256.slice(0, 12)}): it was replaced, or the mount points elsewhere`,
    );
  }
  const model = (await loadCheckpoint(dir, backend)).model;
  try {
    return { model, tokenizer: await loadFolderTokenizer(dir) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
