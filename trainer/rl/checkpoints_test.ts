import { assertEquals } from "@std/assert";
import { checkpointDir, commitCheckpoint, latestCheckpoint, pruneCheckpoints } from "./checkpoints.ts";

Deno.test("commitCheckpoint: the pointer names the newest complete folder, older ones are removed", async () => {
  const out = await Deno.makeTempDir();
  assertEquals(await latestCheckpoint(out), null);
  await commitCheckpoint(out, 0, (dir) => Deno.writeTextFile(`${dir}/x`, "0"));
  const dir1 = await commitCheckpoint(out, 1, (dir) => Deno.writeTextFile(`${dir}/x`, "1"));
  assertEquals(await latestCheckpoint(out), { step: 1, dir: dir1 });
  assertEquals(await Deno.readTextFile(`${dir1}/x`), "1");
  // An interrupted write of step 2 leaves a .tmp folder; the pointer still names step 1 and pruning clears it.
  await Deno.mkdir(`${checkpointDir(out, 2)}.tmp`, { recursive: true });
  assertEquals((await latestCheckpoint(out))?.step, 1);
  await pruneCheckpoints(out, dir1);
  const names = [];
  for await (const e of Deno.readDir(`${out}/ckpt`)) names.push(e.name);
  assertEquals(names, ["step-000001"]);
  await Deno.remove(out, { recursive: true });
});
