import { assert } from "@std/assert";
import { sharedPath, sharedTest } from "./shared.ts";

sharedTest("shared data folder is reachable from the repository", () => {
  const info = Deno.statSync(sharedPath("data/README.md"));
  assert(info.isFile);
});
