import { assertEquals, assertThrows } from "@std/assert";
import { packBatch, packResponses, unpackResponses } from "./batch.ts";

Deno.test("packBatch right-pads and masks the positions that predict response tokens", () => {
  const seqs = [{ prompt: [5, 6], response: [7, 8, 1] }, { prompt: [9], response: [2] }];
  const b = packBatch(seqs, 0);
  assertEquals([b.batch, b.seqLen], [2, 5]);
  assertEquals(Array.from(b.tokens), [5, 6, 7, 8, 1, 9, 2, 0, 0, 0]);
  assertEquals(Array.from(b.mask), [0, 1, 1, 1, 0, 1, 0, 0, 0, 0]);
  const values = new Float32Array([0, -1, -2, -3, 0, -4, 0, 0, 0, 0]);
  const per = unpackResponses(values, seqs, b.seqLen);
  assertEquals(per.map((a) => Array.from(a)), [[-1, -2, -3], [-4]]);
  assertEquals(Array.from(packResponses(per, seqs, b.seqLen)), Array.from(values));
});

Deno.test("packBatch and friends reject bad input", () => {
  assertThrows(() => packBatch([], 0), RangeError);
  assertThrows(() => packBatch([{ prompt: [], response: [1] }], 0), RangeError, "empty prompt");
  assertThrows(() => packBatch([{ prompt: [1], response: [] }], 0), RangeError, "empty response");
  const seqs = [{ prompt: [1], response: [2, 3] }];
  assertThrows(() => unpackResponses(new Float32Array(2), seqs, 3), RangeError);
  assertThrows(() => packResponses([[1]], seqs, 3), RangeError, "1 values, 2 tokens");
});
