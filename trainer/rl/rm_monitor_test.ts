import { assertEquals } from "@std/assert";
import { RmMonitor } from "./rm_monitor.ts";

Deno.test("RmMonitor: pools the last `window` steps and survives a save/restore", () => {
  const m = new RmMonitor(2);
  assertEquals(m.pooledAuc(), null);
  m.record({ positive: [1], negative: [0] });
  assertEquals(m.pooledAuc(), 1);
  m.record({ positive: [0], negative: [1] });
  assertEquals(m.pooledAuc(), 0.5);
  // The first step leaves the window: positives [0, 2] against negatives [1, 3] win 1 of 4 pairs.
  m.record({ positive: [2], negative: [3] });
  assertEquals(m.pooledAuc(), 0.25);
  const restored = new RmMonitor(2, JSON.parse(JSON.stringify(m.toJSON())));
  assertEquals(restored.pooledAuc(), 0.25);
  assertEquals(restored.toJSON(), m.toJSON());
});
