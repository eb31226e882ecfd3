import { assertEquals, assertRejects } from "@std/assert";
import { pathExists } from "./path_exists.ts";

Deno.test("pathExists: true for a file and a folder, false for a missing path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "x");
    assertEquals(await pathExists(`${dir}/f`), true);
    assertEquals(await pathExists(dir), true);
    assertEquals(await pathExists(`${dir}/missing`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pathExists: an error other than not-found is thrown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "x");
    // A path through a file is not "missing": stat fails with NotADirectory, which must surface.
    await assertRejects(() => pathExists(`${dir}/f/child`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
