import { assertEquals } from "@std/assert";
import { createCharTokenizer } from "./char.ts";
import { tokenizerConfigFor } from "./config.ts";
import { tokenizerFromJson } from "./hf.ts";

const special = (content: string) => ({
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

Deno.test("tokenizerConfigFor: names the special tokens so that loading keeps them", () => {
  const tok = createCharTokenizer();
  const config = tokenizerConfigFor(tok, { chatTemplate: "{{ x }}", modelMaxLength: 256 });
  assertEquals(config, {
    tokenizer_class: "PreTrainedTokenizerFast",
    added_tokens_decoder: {
      "0": special("<|pad|>"),
      "1": special("<|endoftext|>"),
      "2": special("<|im_start|>"),
      "3": special("<|im_end|>"),
      "4": special("<|unk|>"),
    },
    eos_token: "<|endoftext|>",
    pad_token: "<|pad|>",
    bos_token: null,
    unk_token: null,
    model_input_names: ["input_ids", "attention_mask"],
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 256,
    chat_template: "{{ x }}",
  });
  // An EOS that the vocabulary heuristics would not pick (<|im_end|>) survives a save and load.
  const chat = tokenizerFromJson(tok.toJSON(), { eos_token: "<|im_end|>" });
  const back = tokenizerFromJson(chat.toJSON(), JSON.parse(JSON.stringify(tokenizerConfigFor(chat))));
  assertEquals([back.eosId, back.padId, back.bosId], [3, 0, null]);
  // A source folder's own fields are kept; ours win on the special tokens and the template.
  const kept = tokenizerConfigFor(chat, {
    base: { tokenizer_class: "Qwen2Tokenizer", errors: "replace", eos_token: "<|x|>", chat_template: "old" },
    chatTemplate: "new",
  });
  assertEquals(
    [kept.tokenizer_class, kept.errors, kept.eos_token, kept.chat_template, kept.model_input_names],
    ["Qwen2Tokenizer", "replace", "<|im_end|>", "new", ["input_ids", "attention_mask"]],
  );
  assertEquals(tokenizerConfigFor(chat, { base: { model_input_names: ["input_ids"] } }).model_input_names, [
    "input_ids",
  ]);
});
