import { assertEquals, assertThrows } from "@std/assert";
import { createCharTokenizer } from "./char.ts";
import { tokenizerFromFiles } from "./files.ts";

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

Deno.test("tokenizerFromFiles: malformed files name themselves", () => {
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
