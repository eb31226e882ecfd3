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
function taskFlags(task: string, cwd?: string): string[] {
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

/** Where and with what environment {@linkcode spawnTask} starts a CLI. */
export interface SpawnTaskOptions {
  /** Added to the environment (which always has `NO_COLOR=1`). */
  env?: Record<string, string>;
  /** The folder to start in; the task's relative paths are taken inside it (see {@linkcode taskFlags}). */
  cwd?: string;
}

/** Starts the CLI at `script` (a path) with the permissions of task `task`, output piped and colour off. */
export function spawnTask(
  task: string,
  script: string,
  args: readonly string[],
  options: SpawnTaskOptions = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...taskFlags(task, options.cwd), script, ...args],
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
}
