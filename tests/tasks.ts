/**
 * Starting a CLI as its `deno.json` task would: the task's permission flags, and a subprocess with them.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The `--allow-*` flags of task `task`. With `cwd`, for a CLI started in folder `cwd` rather than the repository:
 * a permission on `.` covers both the repository (its `node_modules`) and `cwd`, and other relative paths are
 * taken inside `cwd`, so the task's own limits (e.g. `--allow-write=.oreal`) still apply.
 */
export function taskFlags(task: string, cwd?: string): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks;
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

/**
 * Starts the CLI at `script` (a path) with the permissions of task `task`, output piped, colour off and `env`
 * added to the environment.
 */
export function spawnTask(
  task: string,
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...taskFlags(task), script, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
}
