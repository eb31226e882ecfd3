/**
 * The repository's layering rules, checked on its import graph: no import cycles, `core` imports nothing of
 * `trainer`, `edge`, `bench` or `tests`, `trainer` and `edge` never import each other, and an import into a
 * package (a folder with a `mod.ts`) from outside it goes through that `mod.ts`. Tests (`*_test.ts`, `tests/`)
 * and benchmarks (`bench/`) may also use a package's `testing.ts`, and a `*_test.ts` may use the helpers in
 * `tests/`.
 *
 * Paths are relative to the repository root and use `/`.
 *
 * @module
 */

/** A file's local imports (code and type-only), keyed by importing file. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** A broken rule, with a message that names the files. */
export interface Violation {
  rule: "cycle" | "layer" | "mod.ts" | "deno-api";
  message: string;
}

/** Top-level folders each top-level folder must not import. */
const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  core: ["trainer", "edge", "bench", "tests", "tools"],
  trainer: ["edge", "bench", "tests", "tools"],
  edge: ["trainer", "bench", "tests", "tools"],
};

/** Strongly connected components of more than one file, or a file importing itself (Tarjan, iterative). */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; child: number }[] = [{ node: root, child: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const deps = graph.get(frame.node) ?? [];
      if (frame.child < deps.length) {
        const dep = deps[frame.child++];
        if (!index.has(dep)) {
          index.set(dep, next);
          low.set(dep, next++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ node: dep, child: 0 });
        } else if (onStack.has(dep)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(dep)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1 || deps.includes(frame.node)) cycles.push(component.sort());
    }
  }
  return cycles;
}

/** The innermost package folder (one of `packages`) that contains `file`, if any. */
export function packageOf(file: string, packages: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const dir of packages) {
    if (file.startsWith(dir + "/") && (best === undefined || dir.length > best.length)) best = dir;
  }
  return best;
}

function isTestCode(file: string): boolean {
  return file.endsWith("_test.ts") || file.startsWith("tests/") || file.startsWith("bench/");
}

/** Every broken rule in `graph`; `packages` are the folders that hold a `mod.ts`. */
export function layerViolations(graph: ImportGraph, packages: readonly string[]): Violation[] {
  const violations: Violation[] = findCycles(graph).map((files) => ({
    rule: "cycle" as const,
    message: `import cycle: ${files.join(" ↔ ")}`,
  }));
  for (const [from, deps] of graph) {
    const fromTop = from.split("/")[0];
    for (const to of deps) {
      const toTop = to.split("/")[0];
      const testHelper = toTop === "tests" && from.endsWith("_test.ts");
      if (FORBIDDEN[fromTop]?.includes(toTop) && !testHelper) {
        violations.push({
          rule: "layer",
          message: `${from} imports ${to}: ${fromTop} must not import ${toTop}`,
        });
        continue;
      }
      const target = packageOf(to, packages);
      // Imports from inside the package itself (any depth) are its own business.
      if (target === undefined || from.startsWith(target + "/")) continue;
      if (to !== `${target}/mod.ts` && !(isTestCode(from) && to === `${target}/testing.ts`)) {
        violations.push({ rule: "mod.ts", message: `${from} imports ${to}, bypassing ${target}/mod.ts` });
      }
    }
  }
  return violations;
}
