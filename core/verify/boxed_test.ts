import { assertEquals } from "@std/assert";
import { lastBoxed } from "./extract.ts";

Deno.test("lastBoxed: the last box, nested braces kept", () => {
  assertEquals(lastBoxed("a \\boxed{1} then \\boxed{\\frac{1}{2}} cm"), "\\frac{1}{2}");
  assertEquals(lastBoxed("\\fbox{x = {3}}"), "x = {3}");
  assertEquals(lastBoxed("no answer"), null);
  assertEquals(lastBoxed("\\boxed{\\frac{1}{2}"), null);
});

Deno.test("lastBoxed: escaped braces do not count; the bare \\boxed 5 form is a box", () => {
  assertEquals(lastBoxed("so \\boxed{\\{1, 2\\}}"), "\\{1, 2\\}");
  assertEquals(lastBoxed("so \\boxed 5"), "5");
});
