/**
 * Locates the read-only `shared/` folder that sits beside the repository (test vectors, eval sets).
 * CI lays a copy of it next to the clean clone, so the path is resolved from this file, not the cwd.
 */
export function sharedPath(relative: string): string {
  return new URL(`../../shared/${relative}`, import.meta.url).pathname;
}
