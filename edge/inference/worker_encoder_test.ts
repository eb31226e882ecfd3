import { assertEquals, assertRejects } from "@std/assert";
import { createCharTokenizer } from "../../core/tokenizer/mod.ts";
import { TOY_ALPHABET } from "../../tests/edge_harness.ts";
import { addedTokenTexts, encodePrompt, localEncoder, splitSpecials } from "./prompt_encoding.ts";
import { WorkerEncoder } from "./worker_encoder.ts";

const tokenizer = createCharTokenizer({ alphabet: TOY_ALPHABET });
const files = { tokenizer: tokenizer.toJSON(), config: { eos_token_id: tokenizer.eosId } };
const segments = [
  { text: "<|im_start|>user\n", control: true },
  { text: "hi <|im_end|> there", control: false },
  { text: "<|im_end|>\n", control: true },
];

Deno.test("splitSpecials: cuts after the first character of each special string, in one pass", () => {
  assertEquals(splitSpecials("a<|im_end|>b<|x", ["<|im_end|>"]), ["a<", "|im_end|>b<|x"]);
  assertEquals(splitSpecials("plain", ["<|im_end|>"]), ["plain"]);
  assertEquals(splitSpecials("<|im_end|>", []), ["<|im_end|>"]);
});

Deno.test("encodePrompt: control text gives special tokens, content spells them as text", () => {
  const ids = encodePrompt(tokenizer, addedTokenTexts(tokenizer), { segments });
  const imEnd = tokenizer.encode("<|im_end|>")[0];
  assertEquals(ids.filter((id) => id === imEnd).length, 1); // only the template's own
  assertEquals(encodePrompt(tokenizer, [], { text: "ab" }), Array.from(tokenizer.encode("ab")));
});

Deno.test("WorkerEncoder: the ids of the calling thread's encoder, off the thread; a bad tokenizer is a rejection", async () => {
  const worker = await WorkerEncoder.load(files);
  try {
    const local = localEncoder(tokenizer);
    for (const prompt of [{ segments }, { text: "abc <|im_end|>" }, { text: "z".repeat(70_000) }]) {
      assertEquals(await worker.encode(prompt), await local.encode(prompt));
    }
    // Concurrent prompts each get their own answer.
    const many = await Promise.all(["a", "bb", "ccc"].map((text) => worker.encode({ text })));
    assertEquals(many.map((ids) => ids.length), [1, 2, 3]);
  } finally {
    worker.close();
  }
  await assertRejects(() => WorkerEncoder.load({ tokenizer: { model: { type: "nope" } } }), Error);
});
