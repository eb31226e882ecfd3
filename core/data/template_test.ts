import { assertEquals, assertThrows } from "@std/assert";
import { formatPrompt } from "./template.ts";

Deno.test("formatPrompt: plain and qwen-math", () => {
  assertEquals(formatPrompt({ prompt: "What is 1 + 2?" }, "plain"), "Q: What is 1 + 2?\nA: ");
  assertEquals(
    formatPrompt({ prompt: "What is 1 + 2?" }, "qwen-math"),
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n" +
      "<|im_start|>user\nWhat is 1 + 2?<|im_end|>\n<|im_start|>assistant\n",
  );
  assertThrows(() => formatPrompt({ prompt: "x" }, "chatml" as never), RangeError, "unknown template");
});
