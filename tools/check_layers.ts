/**
 * `deno task check:layers`: fails when the repository breaks a layering rule (see `layer_rules.ts`) or when a
 * non-test file in `core/` uses the `Deno` global or imports a `node:` module other than the pure ones in
 * {@linkcode PURE_NODE_BUILTINS} (core stays free of runtime I/O, so it runs on Deno, Node and edge workers).
 *
 * @module
 */
import { walk } from "./walk.ts";
import { loadImportGraph } from "./import_graph.ts";
import { layerViolations, type Violation } from "./layer_rules.ts";
import { findDenoUses } from "./deno_api_scan.ts";

const SOURCE_DIRS = ["core", "trainer", "edge", "bench", "tests", "tools"];

/** `node:` modules without I/O that every runtime we target provides (`parseArgs` for the CLIs' flag tables). */
const PURE_NODE_BUILTINS: readonly string[] = ["node:util"];

async function main(): Promise<number> {
  const root = new URL("..", import.meta.url).pathname;
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) files.push(...await walk(root, dir, ".ts"));
  const packages = files.filter((f) => f.endsWith("/mod.ts")).map((f) => f.slice(0, -"/mod.ts".length));
  const { graph, nodeBuiltins } = await loadImportGraph(root, files);
  const violations: Violation[] = layerViolations(graph, packages);
  for (const file of files) {
    if (!file.startsWith("core/") || file.endsWith("_test.ts")) continue;
    const source = await Deno.readTextFile(root + file);
    for (const use of findDenoUses(source)) {
      const name = use.member ? `Deno.${use.member}` : "Deno";
      violations.push({
        rule: "deno-api",
        message: `${file}:${use.line} uses ${name}; core must not use Deno APIs`,
      });
    }
    for (const builtin of nodeBuiltins.get(file) ?? []) {
      if (PURE_NODE_BUILTINS.includes(builtin)) continue;
      violations.push({
        rule: "deno-api",
        message: `${file} imports ${builtin}; core must not use runtime APIs`,
      });
    }
  }
  for (const v of violations) console.error(`${v.rule}: ${v.message}`);
  console.log(
    `${files.length} files, ${packages.length} packages: ${violations.length} layering violation(s)`,
  );
  return violations.length === 0 ? 0 : 1;
}

Deno.exit(await main());
