import { assert, assertEquals, assertThrows } from "@std/assert";
import { tokenizerFromJson } from "./hf.ts";
import { bytesToUnicode } from "./byte_level.ts";
import { byteLevelBpeJson } from "./testing.ts";

const BYTE = bytesToUnicode();
const MERGES: [string, string][] = [["\u0120", "t"], ["h", "e"], ["\u0120t", "he"], ["\u00c3", "\u00a9"], [
  "1",
  "2",
]];
const SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/** A small Qwen2.5-style tokenizer.json: split regex, byte-level BPE with a few merges, three special tokens. */
const qwenLike = (mergesAsStrings = false) =>
  byteLevelBpeJson({ merges: MERGES, specials: SPECIAL, mergesAsStrings });

const id = (s: string) =>
  s.split("").map((c) => c.charCodeAt(0)).map((b) => BYTE.indexOf(String.fromCharCode(b)));

Deno.test("tokenizerFromJson: byte-level BPE encodes with the merges, by hand", () => {
  for (const strings of [false, true]) {
    const tok = tokenizerFromJson(qwenLike(strings));
    // "the the": pieces "the", " the"; "the" -> t + he (no "t he" merge) = [84, 257]; " the" -> "Ġthe" = 258.
    const t = BYTE.indexOf("t");
    assertEquals(Array.from(tok.encode("the the")), [t, 257, 258]);
    // Digits are split one by one by the regex, so "12" does not use the "1 2" merge.
    assertEquals(Array.from(tok.encode("12")), id("12"));
    // "é" is bytes C3 A9 -> "Ã©" merge = 259; specials are matched before the model.
    assertEquals(Array.from(tok.encode("<|im_start|>\u00e9<|im_end|>")), [262, 259, 263]);
    assertEquals([tok.eosId, tok.padId, tok.bosId, tok.vocabSize], [261, 261, null, 264]);
  }
});

Deno.test("tokenizerFromJson: decode round trip, special tokens kept, bad ids throw", () => {
  const tok = tokenizerFromJson(qwenLike());
  const text = "<|im_start|>user\nWhat is caf\u00e9 \u2615 + 12 ?  Done.<|im_end|>\n";
  assertEquals(tok.decode(tok.encode(text)), text);
  assertThrows(() => tok.decode([5, 264]), RangeError, "position 1");
  assertEquals(tok.toJSON(), qwenLike());
  // toJSON hands out the tokenizer's own object, frozen so that no caller can change the tokenizer through it.
  const json = tok.toJSON() as { model: { vocab: Record<string, number> } };
  assert(json === tok.toJSON() && Object.isFrozen(json) && Object.isFrozen(json.model.vocab));
  assertThrows(() => {
    json.model.vocab.h = 0;
  }, TypeError);
});

Deno.test("tokenizerFromJson: streaming never emits half a character", () => {
  const tok = tokenizerFromJson(qwenLike());
  const text = "a \u2615\u{1F600} caf\u00e9 the end";
  const stream = tok.createStreamDecoder();
  const pieces: string[] = [];
  for (const i of tok.encode(text)) pieces.push(stream.push(i));
  pieces.push(stream.flush());
  assertEquals(pieces.join(""), text);
  assert(pieces.every((p) => !p.includes("\uFFFD")));
  // ☕ is three byte tokens: the first two give nothing, the third the whole character.
  const cup = tok.encode("\u2615");
  const s2 = tok.createStreamDecoder();
  assertEquals(Array.from(cup).map((i) => s2.push(i)), ["", "", "\u2615"]);
  // A dangling partial character comes out as U+FFFD on flush.
  const s3 = tok.createStreamDecoder();
  assertEquals(s3.push(cup[0]), "");
  assertEquals(s3.flush(), "\uFFFD");
});

Deno.test("tokenizerFromJson: special tokens from tokenizer_config, or errors", () => {
  const tok = tokenizerFromJson(qwenLike(), {
    eos_token: "<|im_end|>",
    pad_token: { content: "<|endoftext|>" },
    bos_token: null,
  });
  assertEquals([tok.eosId, tok.padId, tok.bosId], [263, 261, null]);
  assertThrows(
    () => tokenizerFromJson(qwenLike(), { eos_token: "</s>" }),
    RangeError,
    '"</s>" is not in the',
  );
  const noEos = qwenLike();
  noEos.added_tokens = [];
  assertThrows(() => tokenizerFromJson(noEos), RangeError, "no EOS token");
  assertThrows(() => tokenizerFromJson([1, 2]), TypeError, "tokenizer.json object");
  assertThrows(() => tokenizerFromJson({ model: {} }), TypeError, "model.vocab");
});
