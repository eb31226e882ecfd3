import { assertEquals, assertThrows } from "@std/assert";
import { batchRows, validateBatch } from "./batch.ts";

const batch = {
  tokens: new Int32Array([1, 2, 3, 4, 5, 6, 0, 0]),
  batch: 2,
  seqLen: 4,
  mask: new Float32Array([0, 1, 1, 0, 1, 0, 0, 0]),
};

Deno.test("batchRows: positions restart per row; active rows and their next-token targets", () => {
  validateBatch(batch, 10, 8);
  const r = batchRows(batch);
  assertEquals([...r.positions], [0, 1, 2, 3, 0, 1, 2, 3]);
  assertEquals([...r.active], [1, 2, 4]);
  assertEquals([...r.targets], [3, 4, 6]);
});

Deno.test("validateBatch: shapes, vocabulary, positions and the last-position mask are checked", () => {
  assertThrows(() => validateBatch({ ...batch, seqLen: 3 }, 10, 8), RangeError, "tokens has");
  assertThrows(() => validateBatch(batch, 6, 8), RangeError, "vocabulary");
  assertThrows(() => validateBatch(batch, 10, 3), RangeError, "max_position_embeddings");
  assertThrows(
    () => validateBatch({ ...batch, mask: new Float32Array(8).fill(1) }, 10, 8),
    RangeError,
    "last",
  );
  assertThrows(() => validateBatch({ ...batch, batch: 0 }, 10, 8), RangeError, "positive");
});
