/**
 * Builds the repository's import graph with `deno info --json`, which resolves specifiers exactly as Deno does
 * (import map, workspace members, type-only imports).
 *
 * @module
 */
import type { ImportGraph } from "./layer_rules.ts";

interface InfoDependency {
  code?: { specifier: string };
  type?: { specifier: string };
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/** A repository's imports: local files in `graph`, and the `node:` built-ins each file imports. */
export interface RepositoryImports {
  graph: ImportGraph;
  nodeBuiltins: ReadonlyMap<string, readonly string[]>;
}

/**
 * Returns the imports of every file in `files` (paths relative to `root`): local ones as paths relative to
 * `root`, and `node:` built-ins; npm and remote modules are left out.
 */
export async function loadImportGraph(root: string, files: readonly string[]): Promise<RepositoryImports> {
  const rootUrl = new URL(`file://${root.endsWith("/") ? root : root + "/"}`);
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const lines = files.map((file) => `import ${JSON.stringify(new URL(file, rootUrl).href)};`);
    await Deno.writeTextFile(entry, lines.join("\n") + "\n");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", rootUrl).pathname, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
    const relative = (specifier: string) =>
      specifier.startsWith(rootUrl.href)
        ? decodeURIComponent(specifier.slice(rootUrl.href.length))
        : undefined;
    const graph = new Map<string, string[]>();
    const nodeBuiltins = new Map<string, string[]>();
    for (const module of info.modules) {
      const from = relative(module.specifier);
      if (from === undefined) continue;
      const deps = new Set<string>();
      const builtins = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const resolved of [dep.code?.specifier, dep.type?.specifier]) {
          if (resolved?.startsWith("node:")) builtins.add(resolved);
          const to = resolved === undefined ? undefined : relative(resolved);
          if (to !== undefined) deps.add(to);
        }
      }
      graph.set(from, [...deps].sort());
      if (builtins.size > 0) nodeBuiltins.set(from, [...builtins].sort());
    }
    return { graph, nodeBuiltins };
  } finally {
    await Deno.remove(entry);
  }
}
