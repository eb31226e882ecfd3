/**
 * Lists a folder's files recursively, for the repository checks.
 *
 * @module
 */

/** Paths (relative to `root`, with `/`) of the files under `root/dir` whose names end with `suffix`, sorted. */
export async function walk(root: string, dir: string, suffix: string): Promise<string[]> {
  const found: string[] = [];
  const base = root.endsWith("/") ? root : root + "/";
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(base + current)) entries.push(entry);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    for (const entry of entries) {
      const path = `${current}/${entry.name}`;
      if (entry.isDirectory && entry.name !== "node_modules") pending.push(path);
      else if (entry.isFile && entry.name.endsWith(suffix)) found.push(path);
    }
  }
  return found.sort();
}
