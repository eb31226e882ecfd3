import { assertEquals } from "@std/assert";
import { createCharTokenizer } from "./char.ts";
import { tokenizerConfigFor } from "./config.ts";
import { tokenizerFromJson } from "./hf.ts";

Deno.test("tokenizerConfigFor: names the special tokens so that loading keeps them", () => {
  const tok = createCharTokenizer();
  const config = tokenizerConfigFor(tok);
  assertEquals(config, {
    tokenizer_class: "PreTrainedTokenizerFast",
    eos_token: "<|endoftext|>",
    pad_token: "<|pad|>",
    bos_token: null,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
  });
  // An EOS that the vocabulary heuristics would not pick (<|im_end|>) survives a save and load.
  const chat = tokenizerFromJson(tok.toJSON(), { eos_token: "<|im_end|>" });
  const back = tokenizerFromJson(chat.toJSON(), JSON.parse(JSON.stringify(tokenizerConfigFor(chat))));
  assertEquals([back.eosId, back.padId, back.bosId], [3, 0, null]);
});
