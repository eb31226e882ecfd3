import { assertEquals } from "@std/assert";
import { literalPositions, readNumber, skipSpaces, trimEndIndex } from "./scan.ts";

Deno.test("scan: spaces, literal positions ignoring case", () => {
  assertEquals(skipSpaces("a \t\n\u00a0b", 1), 5);
  assertEquals(trimEndIndex("ab \n", 4), 2);
  assertEquals(literalPositions("Answer: x, answer (y)", "answer", true), [0, 11]);
  assertEquals(literalPositions("a.b a.b", "a.b", false), [0, 4]);
});

Deno.test("scan: numbers in prose as the old pattern read them", () => {
  const raw = (s: string, i = 0) => readNumber(s, i)?.raw ?? null;
  assertEquals(raw("1,234,567.5 kg"), "1,234,567.5");
  assertEquals(readNumber("12,345", 0)?.grouped, true);
  assertEquals(raw("1,2345"), "1,234");
  assertEquals(raw("1234,567"), "1234,567");
  assertEquals(raw("-3 / 4 of it"), "-3/4");
  assertEquals(raw("25 %"), "25%");
  assertEquals(raw("25\\%"), "25\\%");
  assertEquals(raw("x2", 1), null);
  assertEquals(raw("1.5", 2), null);
  assertEquals(raw("- 5"), null);
});
