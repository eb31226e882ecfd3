import { assert, assertEquals, assertThrows } from "@std/assert";
import { createCharTokenizer } from "./char.ts";
import { tokenizerFromFiles } from "./files.ts";
import { byteLevelBpeJson } from "./testing.ts";

const tokenizer = createCharTokenizer().toJSON();

Deno.test("tokenizerFromFiles: EOS from tokenizer_config, every eos_token_id as a stop id", () => {
  const folder = tokenizerFromFiles({
    tokenizer,
    tokenizerConfig: { eos_token: "<|im_end|>", chat_template: "{{ messages }}" },
    generationConfig: { eos_token_id: [3, 1] },
    config: { eos_token_id: 1 },
  });
  assertEquals([folder.tokenizer.eosId, folder.tokenizer.stopIds], [3, [3, 1]]);
  assertEquals(folder.chatTemplate, "{{ messages }}");
  // chat_template.jinja wins over the field; the list form picks "default".
  assertEquals(tokenizerFromFiles({ tokenizer, chatTemplate: "J" }).chatTemplate, "J");
  const named = { chat_template: [{ name: "tool_use", template: "T" }, { name: "default", template: "D" }] };
  assertEquals(tokenizerFromFiles({ tokenizer, tokenizerConfig: named }).chatTemplate, "D");
  const bare = tokenizerFromFiles({ tokenizer });
  assertEquals([bare.chatTemplate, bare.tokenizer.stopIds, bare.tokenizerConfig, bare.generationConfig], [
    null,
    [1],
    {},
    {},
  ]);
});

Deno.test("tokenizerFromFiles: tokenizer.json as text gives the tokenizer its parsed object gives", () => {
  const bpe = byteLevelBpeJson({ merges: [["h", "e"]], specials: ["<|endoftext|>", "<|im_end|>"] });
  for (const json of [tokenizer, bpe]) {
    const fromObject = tokenizerFromFiles({ tokenizer: json }).tokenizer;
    const fromText = tokenizerFromFiles({ tokenizer: JSON.stringify(json) }).tokenizer;
    const text = "<|im_end|>\nhe said";
    assertEquals(fromText.encode(text), fromObject.encode(text));
    assertEquals([fromText.eosId, fromText.vocabSize], [fromObject.eosId, fromObject.vocabSize]);
    assertEquals(fromText.toJSON(), json);
  }
  // The object form is copied: the caller's object is neither frozen nor shared.
  tokenizerFromFiles({ tokenizer: bpe });
  assert(!Object.isFrozen(bpe) && !Object.isFrozen(bpe.model));
});

Deno.test("tokenizerFromFiles: malformed files name themselves", () => {
  assertThrows(() => tokenizerFromFiles({ tokenizer: "{" }), TypeError, "tokenizer.json is not valid JSON");
  assertThrows(
    () => tokenizerFromFiles({ tokenizer, generationConfig: { eos_token_id: "x" } }),
    TypeError,
    "generation_config.json: eos_token_id",
  );
  assertThrows(() => tokenizerFromFiles({ tokenizer, config: [] }), TypeError, "config.json: expected");
  assertThrows(
    () => tokenizerFromFiles({ tokenizer, generationConfig: { eos_token_id: 500 } }),
    RangeError,
    "stop id 500",
  );
  assertThrows(
    () => tokenizerFromFiles({ tokenizer, tokenizerConfig: { chat_template: 5 } }),
    TypeError,
    "chat_template",
  );
});
