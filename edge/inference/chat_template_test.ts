import { assertEquals } from "@std/assert";
import { renderChatML } from "./chat_template.ts";

Deno.test("renderChatML: messages in ChatML, ending with the assistant header", () => {
  assertEquals(
    renderChatML([{ role: "system", content: "Be brief." }, { role: "user", content: "1+1?" }]),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n",
  );
});
