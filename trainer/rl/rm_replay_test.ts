import { assertEquals } from "@std/assert";
import { RmReplay } from "./rm_replay.ts";

const item = (id: number, correct: boolean) => ({
  seq: { prompt: Uint32Array.from([1, id]), response: Uint32Array.from([id, 2]) },
  correct,
});

Deno.test("RmReplay: keeps the last `steps` batches and survives a save/restore", () => {
  const r = new RmReplay(2);
  r.add([item(1, true)]);
  r.add([item(2, false), item(3, true)]);
  r.add([item(4, false)]);
  assertEquals(r.items().map((x) => x.seq.response[0]), [2, 3, 4]);
  const restored = new RmReplay(2, JSON.parse(JSON.stringify(r.toJSON())));
  assertEquals(restored.items(), r.items());
  // A smaller buffer keeps the newest batches of a saved state.
  assertEquals(new RmReplay(1, r.toJSON()).items().map((x) => x.seq.response[0]), [4]);
});

Deno.test("RmReplay: zero steps keeps nothing (the released trainer)", () => {
  const r = new RmReplay(0);
  r.add([item(1, true)]);
  assertEquals(r.items(), []);
});
