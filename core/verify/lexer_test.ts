import { assertEquals, assertThrows } from "@std/assert";
import { ParseError, tokenize } from "./lexer.ts";

const kv = (s: string) => tokenize(s).map((t) => `${t.k}:${t.v}`);

Deno.test("lexer: numbers, scientific notation, letters and functions", () => {
  assertEquals(kv("2x+3.5"), ["num:2", "sym:x", "op:+", "num:3.5"]);
  assertEquals(kv("6e13 2e"), ["num:6e13", "num:2", "sym:e"]);
  assertEquals(kv("sinx"), ["fn:sin", "sym:x"]);
  assertEquals(kv("\\sin^2 \\theta"), ["fn:sin", "op:^", "num:2", "sym:theta"]);
  assertEquals(kv("pi sqrt"), ["sym:pi", "cmd:sqrt"]);
});

Deno.test("lexer: commands and Unicode map to one spelling", () => {
  assertEquals(kv("a\\cdot b \\times c ÷ d"), ["sym:a", "op:*", "sym:b", "op:*", "sym:c", "op:/", "sym:d"]);
  assertEquals(kv("x \\leq 1 ≥ 2 != 3 <= 4"), [
    "sym:x",
    "op:≤",
    "num:1",
    "op:≥",
    "num:2",
    "op:≠",
    "num:3",
    "op:≤",
    "num:4",
  ]);
  assertEquals(kv("\\infty ∞ π \\pm"), ["sym:Infinity", "sym:Infinity", "sym:pi", "op:±"]);
  assertEquals(kv("\\{1\\}"), ["op:\\{", "num:1", "op:\\}"]);
  assertEquals(kv("\\angle \\zzz"), ["cmd:zzz"]);
});

Deno.test("lexer: text groups kept raw; environments; row breaks", () => {
  assertEquals(tokenize("\\text{ miles }")[0], { k: "text", v: " miles ", cmd: "text" });
  assertEquals(tokenize("\\mathrm e")[0], { k: "text", v: "e", cmd: "mathrm" });
  assertEquals(kv("\\begin{array}{cc}1&2\\\\3&4\\end{array}"), [
    "begin:array",
    "num:1",
    "op:&",
    "num:2",
    "op:\\\\",
    "num:3",
    "op:&",
    "num:4",
    "end:array",
  ]);
  assertEquals(kv("1\\\\\\frac"), ["num:1", "op:\\\\", "cmd:frac"]);
});

Deno.test("lexer: unbalanced groups and stray characters are errors", () => {
  assertThrows(() => tokenize("\\text{abc"), ParseError, "unbalanced");
  assertThrows(() => tokenize("\\begin pmatrix"), ParseError);
  assertThrows(() => tokenize("1 # 2"), ParseError, "unexpected character");
});
