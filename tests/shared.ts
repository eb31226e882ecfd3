/**
 * Locates the read-only `shared/` folder that sits beside the repository (test vectors, eval sets), and
 * registers the tests that read it so that they are skipped, with a message, where it is absent (a clone
 * on its own). CI lays a copy of it next to the clean clone, so the path is resolved from this file, not the cwd.
 */

/** The path of `relative` inside `shared/`. */
export function sharedPath(relative: string): string {
  return new URL(`../../shared/${relative}`, import.meta.url).pathname;
}

function present(): boolean {
  try {
    return Deno.statSync(sharedPath("")).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Whether `shared/` is beside the repository. */
export const HAS_SHARED: boolean = present();

let warned = false;

/** Registers a test that reads `shared/`: skipped (with one message on stderr) when the folder is absent. */
export function sharedTest(name: string, fn: () => void | Promise<void>): void {
  if (!HAS_SHARED && !warned) {
    warned = true;
    console.warn(`skipping the tests that read ${sharedPath("")}: the folder is absent`);
  }
  Deno.test({ name, ignore: !HAS_SHARED, fn });
}
