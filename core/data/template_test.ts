import { assertEquals, assertThrows } from "@std/assert";
import { Template } from "@huggingface/jinja";
import { CHAT_TEMPLATES, chatMLTemplate, formatPrompt, type PromptTemplate } from "./template.ts";

Deno.test("formatPrompt: plain and qwen-math", () => {
  assertEquals(formatPrompt({ prompt: "What is 1 + 2?" }, "plain"), "Q: What is 1 + 2?\nA: ");
  assertEquals(
    formatPrompt({ prompt: "What is 1 + 2?" }, "qwen-math"),
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n" +
      "<|im_start|>user\nWhat is 1 + 2?<|im_end|>\n<|im_start|>assistant\n",
  );
  assertThrows(() => formatPrompt({ prompt: "x" }, "chatml" as never), RangeError, "unknown template");
});

Deno.test("CHAT_TEMPLATES: a user message renders as formatPrompt; multi-turn conversations", () => {
  const render = (source: string, messages: { role: string; content: string }[]) =>
    new Template(source).render({ messages, add_generation_prompt: true, eos_token: "<|endoftext|>" });
  const prompt = "It's 1/2 + \\frac{1}{3}\n= ?";
  for (const name of Object.keys(CHAT_TEMPLATES) as PromptTemplate[]) {
    assertEquals(
      render(CHAT_TEMPLATES[name], [{ role: "user", content: prompt }]),
      formatPrompt({ prompt }, name),
    );
  }
  const turns = [
    { role: "system", content: "Be brief." },
    { role: "user", content: "1+1?" },
    { role: "assistant", content: "2" },
    { role: "user", content: "2+2?" },
  ];
  assertEquals(render(CHAT_TEMPLATES.plain, turns), "Be brief.\nQ: 1+1?\nA: 2<|endoftext|>Q: 2+2?\nA: ");
  assertEquals(
    render(CHAT_TEMPLATES["qwen-math"], turns),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n" +
      "<|im_start|>assistant\n2<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
  );
  assertEquals(
    render(chatMLTemplate(), turns.slice(1, 2)),
    "<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n",
  );
});
