import { assertEquals, assertThrows } from "@std/assert";
import { endsWithSequence, stopHoldback, StopTokens, truncateAtStop } from "./stop.ts";

Deno.test("StopTokens looks up ids and rejects bad ones", () => {
  const s = new StopTokens([2, 7, 7]);
  assertEquals([s.has(2), s.has(7), s.has(3)], [true, true, false]);
  assertEquals(s.size, 2);
  assertThrows(() => new StopTokens([-1]), RangeError, "bad token id");
  assertThrows(() => new StopTokens([1.5]), RangeError, "bad token id");
});

Deno.test("endsWithSequence finds a stop sequence at the end of the valid prefix only", () => {
  const tokens = Uint32Array.from([5, 1, 2, 3, 9, 9]);
  assertEquals(endsWithSequence(tokens, 4, [[9], [2, 3]]), 2);
  assertEquals(endsWithSequence(tokens, 3, [[2, 3]]), 0);
  assertEquals(endsWithSequence(tokens, 6, [[], [3, 9, 9]]), 3);
  assertEquals(endsWithSequence(tokens, 1, [[1, 5]]), 0);
  assertThrows(() => endsWithSequence(tokens, 7, [[1]]), RangeError, "bad length");
});

Deno.test("truncateAtStop cuts at the earliest stop string", () => {
  assertEquals(truncateAtStop("abc</s>def<|end|>", ["<|end|>", "</s>"]), { text: "abc", stop: "</s>" });
  assertEquals(truncateAtStop("no stop here", ["</s>", ""]), { text: "no stop here", stop: null });
  assertEquals(truncateAtStop("x\n\nQ:", ["\n", "\n\n"]), { text: "x", stop: "\n\n" });
});

Deno.test("stopHoldback holds back a suffix that may grow into a stop string", () => {
  assertEquals(stopHoldback("answer is 4</", ["</s>"]), 2);
  assertEquals(stopHoldback("answer <|e", ["</s>", "<|end|>"]), 3);
  assertEquals(stopHoldback("plain", ["</s>"]), 0);
  assertEquals(stopHoldback("<", ["<", "</s>"]), 1);
  assertEquals(stopHoldback("", ["</s>"]), 0);
});
