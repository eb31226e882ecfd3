import { assertEquals } from "@std/assert";
import { canonicalString, normalizeAnswer } from "./normalize.ts";

const n = normalizeAnswer;

Deno.test("normalize: delimiters, \\left/\\right, fraction variants, spacing", () => {
  assertEquals(n("$\\left(\\dfrac{1}{2}\\right)$"), "(\\frac{1}{2})");
  assertEquals(n("\\tfrac{1}{2}+\\cfrac{1}{3}"), "\\frac{1}{2}+\\frac{1}{3}");
  assertEquals(n("\\displaystyle x\\,y\\!z\\;w"), "x y z w");
  assertEquals(n("\\\\frac{4}{5}"), "\\frac{4}{5}");
});

Deno.test("normalize: thousands separators, decimal comma, lists stay lists", () => {
  assertEquals(n("14{,}916"), "14916");
  assertEquals(n("11,\\! 111,\\! 111,\\! 100"), "11111111100");
  assertEquals(n("12,000,023"), "12000023");
  assertEquals(n("1,000.99"), "1000.99");
  assertEquals(n("1 000"), "1000");
  assertEquals(n("0,111"), "0.111");
  assertEquals(n("32, 349"), "32, 349");
  assertEquals(n("2500,7500"), "2500,7500");
});

Deno.test("normalize: percent words, degrees, currency, units and trailing punctuation", () => {
  assertEquals(n("28\\%"), "28%");
  assertEquals(n("28 percent"), "28%");
  assertEquals(n("4 4/9percentage"), "(4+4/9)%");
  assertEquals(n("90^{\\circ}"), "90°");
  assertEquals(n("\\$10"), "10");
  assertEquals(n("10 square units"), "10");
  assertEquals(n("865 \\mbox{ inches}^2"), "865");
  assertEquals(n("8.64 \\mathrm{~g} / \\mathrm{cm}^{3}"), "8.64");
  assertEquals(n("125\\textnormal{ miles}."), "125");
  assertEquals(n("10cm"), "10cm");
  assertEquals(n("\\text{Evelyn}"), "\\text{Evelyn}");
  assertEquals(n("185\\"), "185");
  assertEquals(n("\\frac{1}{3} ."), "\\frac{1}{3}");
});

Deno.test("normalize: mixed numbers only when proper; ellipsis kept; and/or become commas", () => {
  assertEquals(n("4 4/9"), "(4+4/9)");
  assertEquals(n("-4 4/9"), "-(4+4/9)");
  assertEquals(n("11 6/6"), "11 6/6");
  assertEquals(n("918\\frac{1}{2}"), "(918+1/2)");
  assertEquals(n("1, 2, 3, ..."), "1, 2, 3, \\dots");
  assertEquals(n("19, 46, and 82"), "19, 46, 82");
  assertEquals(n("6 \\text{ and } 8"), "6 , 8");
  assertEquals(n("y^{\\prime}+y"), "y'+y");
});

Deno.test("normalize: canonical string drops formatting", () => {
  assertEquals(canonicalString("\\text{(C)}"), "(C)");
  assertEquals(canonicalString("$\\mathrm{E}$"), "E");
  assertEquals(canonicalString("x ^ 2 + 1"), "x^2+1");
});
