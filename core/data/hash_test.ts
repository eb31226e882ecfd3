import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { hash64 } from "./hash.ts";

Deno.test("hash64: stable, 32-bit words, sensitive to every character", () => {
  assertEquals(hash64("What is 1 + 2?"), hash64("What is 1 + 2?"));
  assertNotEquals(hash64("What is 1 + 2?"), hash64("What is 2 + 1?"));
  const seen = new Set<string>();
  for (let i = 0; i < 20000; i++) seen.add(hash64(`What is ${i} + 1?`).join(":"));
  assertEquals(seen.size, 20000);
  for (const w of hash64("")) assert(Number.isInteger(w) && w >= 0 && w < 2 ** 32);
  // the low bits decide the split: about 1 in 8 of many prompts has h1 % 8 = 0
  let low = 0;
  for (let i = 0; i < 8000; i++) if (hash64(`${i}`)[0] % 8 === 0) low++;
  assert(low > 850 && low < 1150, `${low}`);
});
