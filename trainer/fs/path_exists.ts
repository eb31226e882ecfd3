/**
 * Whether a path exists, for the trainer's file checks.
 *
 * @module
 */

/** True when `path` exists (file, folder or anything else); false when it does not; other errors are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
