import { assertEquals } from "@std/assert";
import { goldChoice, responseChoice } from "./mcq.ts";

Deno.test("mcq: gold letters", () => {
  assertEquals(goldChoice("B"), "B");
  assertEquals(goldChoice("(D) Alina"), "D");
  assertEquals(goldChoice("\\text{(C)}"), "C");
  assertEquals(goldChoice("A Peter\nCelina bum"), "A");
  assertEquals(goldChoice("d"), null);
  assertEquals(goldChoice("E*2"), null);
  assertEquals(goldChoice("F"), null);
  assertEquals(goldChoice("42"), null);
});

Deno.test("mcq: the letter a response picks", () => {
  assertEquals(responseChoice("D. it can't be A or B"), "D");
  assertEquals(responseChoice("B。 不是 A"), "B");
  assertEquals(responseChoice("It's not A because of that, therefore I think it's B"), "B");
  assertEquals(responseChoice("thinking about it I think the correct answer is C"), "C");
  assertEquals(responseChoice("réponse est C non A"), "C");
  assertEquals(responseChoice("so \\boxed{\\text{(C)}}."), "C");
  assertEquals(responseChoice("\\textbf{A}"), "A");
  assertEquals(responseChoice("\\mathrm{E}*2"), null);
  assertEquals(responseChoice("\\boxed{42}"), null);
  assertEquals(responseChoice("no idea"), null);
});
