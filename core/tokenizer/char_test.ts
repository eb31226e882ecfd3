import { assert, assertEquals, assertThrows } from "@std/assert";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { formatPrompt, generateProblems } from "../data/mod.ts";
import { CHAR_SPECIAL_TOKENS, createCharTokenizer } from "./char.ts";
import { tokenizerFromJson } from "./hf.ts";

const tok = createCharTokenizer();
const problems = generateProblems({ seed: 5, count: 40, split: "train" });
const texts = [
  ...problems.map((p) => formatPrompt(p, "plain") + p.solution),
  formatPrompt({ prompt: "What is 2 + 2?" }, "qwen-math") + "4<|im_end|><|endoftext|>",
  "caf\u00e9 \u2615 \u{1F600}!\t<|unk|> <| <|im_end",
  "",
];

Deno.test("char tokenizer: special ids, one id per character", () => {
  assertEquals([tok.padId, tok.eosId, tok.bosId], [0, 1, null]);
  assertEquals(tok.vocabSize, 5 + 96); // 5 specials + printable ASCII + newline
  assertEquals(Array.from(tok.encode("<|im_start|>")), [2]);
  const ids = tok.encode("1+1");
  assertEquals(ids.length, 3);
  assertEquals(ids[0], ids[2]);
  assertEquals(tok.decode(ids), "1+1");
  assertEquals(Array.from(tok.encode(CHAR_SPECIAL_TOKENS.eos + "a")).slice(0, 1), [tok.eosId]);
});

Deno.test("char tokenizer: round trip of generated text; unknown characters are dropped (ASCII alphabet)", () => {
  for (const t of texts.slice(0, -2)) assertEquals(tok.decode(tok.encode(t)), t);
  // é, ☕, the emoji (a surrogate pair) and tab are not in the alphabet: dropped, as transformers does.
  const ids = Array.from(tok.encode("caf\u00e9\u2615\u{1F600}\t!"));
  assertEquals(tok.decode(ids), "caf!");
  assertThrows(() => tok.decode([0, tok.vocabSize]), RangeError, "position 1");
  assertThrows(() => tok.decode([1.5]), RangeError, "id 1.5");
  // A non-ASCII alphabet keeps the raw form, where an unknown character is one <|unk|>.
  const accents = createCharTokenizer({ alphabet: "ab\u00e9" });
  assertEquals(Array.from(accents.encode("a\u2615\u00e9")), [5, 4, 7]);
});

Deno.test("char tokenizer: byte-level tokenizer.json; NFC between special tokens", () => {
  const json = tok.toJSON() as { model: { vocab: Record<string, number>; unk_token: unknown } };
  // A space and a newline are spelled as byte-level characters, as in Qwen2's vocabulary.
  assertEquals([json.model.vocab["\u0120"], json.model.vocab["\u010a"]], [
    tok.encode(" ")[0],
    tok.encode("\n")[0],
  ]);
  assertEquals([json.model.vocab[" "], json.model.unk_token], [undefined, null]);
  // "e" + combining acute is "é" after NFC, which is outside the alphabet; the specials are matched first.
  assertEquals(tok.decode(tok.encode("e\u0301<|im_end|>e\u0301x")), "<|im_end|>x");
});

Deno.test("char tokenizer: @huggingface/tokenizers loads its tokenizer.json and gives the same ids", () => {
  const json = JSON.parse(JSON.stringify(tok.toJSON()));
  const hf = new HfTokenizer(json, {});
  for (const t of texts) {
    const ids = Array.from(tok.encode(t));
    assertEquals(hf.encode(t, { add_special_tokens: false }).ids, ids, t);
    // (the library refuses to decode an empty list)
    if (ids.length > 0) {
      assertEquals(hf.decode(ids, { clean_up_tokenization_spaces: false }), tok.decode(ids));
    }
  }
});

Deno.test("char tokenizer: tokenizerFromJson rebuilds it; custom alphabets", () => {
  const back = tokenizerFromJson(JSON.parse(JSON.stringify(tok.toJSON())));
  assertEquals([back.vocabSize, back.eosId, back.padId, back.bosId], [tok.vocabSize, 1, 0, null]);
  for (const t of texts) assertEquals(back.encode(t), tok.encode(t));
  assertEquals(back.toJSON(), tok.toJSON());
  const small = createCharTokenizer({ alphabet: "ab\u00e9ab" });
  assertEquals(small.vocabSize, 8);
  assertEquals(Array.from(small.encode("\u00e9bz")), [7, 6, 4]);
  assertThrows(() => createCharTokenizer({ alphabet: "" }), RangeError, "empty");
});

Deno.test("char tokenizer: stream decoding gives the text piece by piece", () => {
  const text = texts[0];
  const stream = tok.createStreamDecoder();
  let out = "";
  for (const id of tok.encode(text)) out += stream.push(id);
  assertEquals(out + stream.flush(), text);
  assert(text.length > 10);
  assertThrows(() => stream.push(-1), RangeError);
});
