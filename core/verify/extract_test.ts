import { assertEquals } from "@std/assert";
import { answerRegion, extractAnswer, extractGold, findBoxed, findLatexBlocks, isProse } from "./extract.ts";

Deno.test("extract: last \\boxed with nested braces, \\fbox, doubled backslash and unclosed box", () => {
  assertEquals(extractAnswer("first \\boxed{1} then \\boxed{\\frac{a}{b^{2}}}"), "\\frac{a}{b^{2}}");
  assertEquals(extractAnswer("so \\fbox{42}."), "42");
  assertEquals(extractAnswer("so \\\\boxed{840}"), "840");
  assertEquals(extractAnswer("\\boxed 5 is it"), "5");
  assertEquals(extractAnswer("\\boxed{x+1"), "x+1");
  assertEquals(findBoxed("\\boxed{\\{1\\}}")[0].content, "\\{1\\}");
});

Deno.test("extract: adjacent boxes form one list, separated ones do not", () => {
  assertEquals(extractAnswer("$\\boxed{1}$, $\\boxed{2}$ and $\\boxed{3}$"), "1, 2, 3");
  assertEquals(extractAnswer("\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}"), "(3, 3), (1, 1)");
  assertEquals(extractAnswer("\\( y_1 = \\boxed{a} \\) and \\( y_2 = \\boxed{b} \\)"), "a, b");
  assertEquals(extractAnswer("\\boxed{1} no, that was wrong; recomputing gives \\boxed{2}"), "2");
  assertEquals(extractAnswer("\\boxed{7} so indeed \\boxed{7}"), "7");
});

Deno.test("extract: only the text after </think>, and nothing after a chat end marker", () => {
  assertEquals(extractAnswer("<think>maybe \\boxed{3}</think> It is \\boxed{4}."), "4");
  assertEquals(extractAnswer("<think>\\boxed{3}</think> no answer given"), null);
  assertEquals(answerRegion("ok 5 <|im_start|>user 6"), "ok 5 ");
});

Deno.test("extract: answer sentences in priority order", () => {
  assertEquals(
    extractAnswer("Final Answer: The final answer is $14{,}916$. I hope it is correct."),
    "14{,}916",
  );
  assertEquals(extractAnswer("\\boxed{1} ... The final answer is 12. I hope it is correct."), "12");
  assertEquals(extractAnswer("so the answer is 0"), "0");
  assertEquals(extractAnswer("Final Answer: The largest $n$ is 34."), "34");
  assertEquals(extractAnswer("réponse est (35 + 70 = 105)."), "(35 + 70 = 105)");
  assertEquals(extractAnswer("答案：每份应该是 (\\frac{2}{5}) 吨。"), "\\frac{2}{5}");
  assertEquals(extractAnswer("The answer is 7.78."), "7.78");
  assertEquals(extractAnswer("48 + 24 = 72 clips\n#### 72"), "72");
});

Deno.test("extract: LaTeX blocks, whole expressions and the last number as fallbacks", () => {
  assertEquals(extractAnswer("The point is $(1,2)$"), "(1,2)");
  assertEquals(extractAnswer("Answer \\( (9+1) \\)"), "(9+1)");
  assertEquals(extractAnswer("so $x=3$ and $y=4$ hence"), "x=3, y=4");
  assertEquals(extractAnswer("Price: \\$5 and \\$6 is $$12$$"), "12");
  assertEquals(extractAnswer("2x+ 1+x^2"), "2x+ 1+x^2");
  assertEquals(extractAnswer("it costs 1,000.99€ in total"), "1000.99");
  assertEquals(extractAnswer("Soucis : 2,74 $ a.."), "2.74");
  assertEquals(extractAnswer("the error increases by 100%."), "100%");
  assertEquals(extractAnswer("Okay, so I need"), null);
  assertEquals(extractAnswer(""), null);
});

Deno.test("extract: gold strings keep their whole text unless boxed or in $..$", () => {
  assertEquals(extractGold("10 square units"), "10 square units");
  assertEquals(extractGold("$125$ miles"), "125");
  assertEquals(extractGold("$21,16$ or $11$"), "21,16, 11");
  assertEquals(extractGold("solution ... so $\\boxed{20}$ percent"), "20");
  assertEquals(extractGold("   "), null);
  assertEquals(extractGold("Natalia sold 48/2 = 24 clips.\n#### 72"), "72");
});

Deno.test("extract: helpers", () => {
  assertEquals(findLatexBlocks("a $x$ b $$y$$ c \\[z\\] d \\(w\\) \\$5").map((b) => b.content), [
    "x",
    "y",
    "z",
    "w",
  ]);
  assertEquals(findLatexBlocks("$ \n 9 \n $").length, 0);
  assertEquals(isProse("the answer is seven"), true);
  assertEquals(isProse("10 square units"), false);
  assertEquals(isProse("\\frac{dM}{dt}=M^2"), false);
  assertEquals(isProse("Evelyn"), false);
});
