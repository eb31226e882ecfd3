/**
 * Fair scheduling over real HTTP, with decoders in workers as `deno task serve` runs them (in-process
 * inference keeps the server's thread too busy to take new requests while it generates): a request takes the
 * model's slot once per choice, so a small request gets through while a large one runs.
 */

import { assertEquals } from "@std/assert";
import { loadModelDir } from "../edge/inference/load_model_dir.ts";
import { startServer, writeSlowModelDir } from "./edge_harness.ts";

Deno.test("http: a small request gets through while a large one runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge_fair_" });
  await writeSlowModelDir(`${dir}/slow`);
  const slow = await loadModelDir(`${dir}/slow`, { concurrency: 1, maxWaiting: 4 });
  const server = startServer({ model: slow });
  try {
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/completions`, { method: "POST", body: JSON.stringify(body) });
    const finished: string[] = [];
    const large = post({ model: "slow", prompt: "a", n: 4, max_tokens: 12 }).then(async (res) => {
      assertEquals((await res.json()).choices.length, 4);
      finished.push("large");
    });
    while (slow.queue.active === 0) await new Promise((r) => setTimeout(r, 5));
    const small = post({ model: "slow", prompt: "a", max_tokens: 2, temperature: 0 }).then(async (res) => {
      assertEquals((await res.json()).choices[0].text, "bc");
      finished.push("small");
    });
    await Promise.all([large, small]);
    assertEquals(finished, ["small", "large"]);
  } finally {
    await server.close();
    await slow.close();
  }
});
