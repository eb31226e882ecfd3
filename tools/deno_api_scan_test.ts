import { assertEquals } from "@std/assert";
import { findDenoUses } from "./deno_api_scan.ts";

Deno.test("findDenoUses reports code uses with their line and member", () => {
  const source = [
    "const a = Deno.readTextFileSync('x');",
    "if (typeof Deno !== 'undefined') {}",
    "const b = `${Deno.env.get('A')}`;",
  ].join("\n");
  assertEquals(findDenoUses(source), [
    { line: 1, member: "readTextFileSync" },
    { line: 2, member: "" },
    { line: 3, member: "env" },
  ]);
});

Deno.test("findDenoUses ignores comments, strings, template text and property names", () => {
  const source = [
    "// Deno.exit(1)",
    "/* Deno.env",
    "   Deno.args */",
    "const s = 'Deno.cwd()' + \"Deno.pid\";",
    "const t = `Deno.build ${1 + {a: 1}.a} Deno.version`;",
    "const o = { Denox: 1 }; o.Deno; const MyDeno = 2;",
  ].join("\n");
  assertEquals(findDenoUses(source), []);
});

Deno.test("findDenoUses counts lines inside multi-line comments and templates", () => {
  const source = "/*\n\n*/\nconst t = `\n${`\n`}\n`;\nDeno.test";
  assertEquals(findDenoUses(source), [{ line: 8, member: "test" }]);
});
