/**
 * The permission flags of a `deno.json` task, for tests that start a CLI as the task would.
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The `--allow-*` flags of task `task`. With `cwd`, for a CLI started in folder `cwd` rather than the repository:
 * a permission on `.` covers both the repository (its `node_modules`) and `cwd`, and other relative paths are
 * taken inside `cwd`, so the task's own limits (e.g. `--allow-write=.oreal`) still apply.
 */
export async function taskFlags(task: string, cwd?: string): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const flags = (tasks[task] as string).split(/\s+/).map((a) => a.replaceAll("'", "")).filter((a) =>
    a.startsWith("--allow-")
  );
  if (cwd === undefined) return flags;
  return flags.map((flag) => {
    const eq = flag.indexOf("=");
    if (eq < 0 || flag.startsWith("--allow-env") || flag.startsWith("--allow-net")) return flag;
    const paths = flag.slice(eq + 1).split(",").flatMap((p) =>
      p === "." ? [ROOT, cwd] : p.startsWith("/") ? [p] : [`${cwd}/${p}`]
    );
    return `${flag.slice(0, eq)}=${paths.join(",")}`;
  });
}
