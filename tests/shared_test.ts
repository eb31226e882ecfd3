import { assert } from "@std/assert";
import { sharedPath } from "./shared.ts";

Deno.test("shared data folder is reachable from the repository", () => {
  const info = Deno.statSync(sharedPath("data/README.md"));
  assert(info.isFile);
});
