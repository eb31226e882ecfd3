import { assert } from "@std/assert";
import { sharedPath, sharedTest } from "../../tests/shared.ts";
import { unlimitedBudget } from "./budget.ts";
import { findBoxed } from "./extract.ts";
import { extractGold, normalizeAnswer, parseAnswer, verify } from "./mod.ts";

function readJsonl(path: string): Record<string, unknown>[] {
  return Deno.readTextFileSync(sharedPath(path)).split("\n").filter((l) => l.trim() !== "").map((l) =>
    JSON.parse(l)
  );
}

/** Changes the last digit that is not part of a subscript or a root index. */
function perturb(answer: string): string | null {
  const digits = [...answer.matchAll(/\d/g)].filter((m) => {
    const before = answer.slice(Math.max(0, m.index - 12), m.index);
    return !/_\{?[^}]*$|\\sqrt\[$/.test(before);
  });
  const m = digits.pop();
  if (m === undefined) return null;
  const d = Number(m[0]);
  return answer.slice(0, m.index) + String(d === 9 ? 1 : d + 1) + answer.slice(m.index + 1);
}

function checkGolds(golds: string[]): string[] {
  const failures: string[] = [];
  for (const gold of golds) {
    try {
      parseAnswer(normalizeAnswer(extractGold(gold)!), unlimitedBudget());
    } catch (e) {
      failures.push(`does not parse: ${JSON.stringify(gold)} (${(e as Error).message})`);
      continue;
    }
    const self = verify(gold, gold);
    if (!self.correct) failures.push(`not equal to itself: ${JSON.stringify(gold)} (${self.reason})`);
    const changed = perturb(gold);
    if (changed === null) continue;
    const other = verify(gold, changed);
    if (other.correct) {
      failures.push(`equal to a perturbed copy: ${JSON.stringify(gold)} vs ${JSON.stringify(changed)}`);
    }
  }
  return failures;
}

sharedTest("every OlympiadBench gold parses, equals itself and differs from a perturbed copy", () => {
  const golds = readJsonl("data/eval/olympiadbench.jsonl").map((r) =>
    (r.final_answer as string[]).join(", ")
  );
  assert(golds.length > 600);
  const failures = checkGolds(golds);
  assert(failures.length === 0, `${failures.length} failures:\n${failures.join("\n")}`);
});

sharedTest("every Minerva gold parses, equals itself and differs from a perturbed copy", () => {
  const golds = readJsonl("data/eval/minerva_math.jsonl").map((r) => {
    const boxes = findBoxed(r.solution as string);
    return boxes[boxes.length - 1].content;
  });
  assert(golds.length > 250);
  const failures = checkGolds(golds);
  assert(failures.length === 0, `${failures.length} failures:\n${failures.join("\n")}`);
});
