import { assert } from "@std/assert";
import { sharedPath, sharedTest } from "../../tests/shared.ts";
import { extractAnswer, normalizeAnswer, verify } from "./mod.ts";
import type { VerifyOptions } from "./types.ts";

interface Row {
  gold: string;
  pred: string;
  expected: boolean;
  kind: string;
  options?: Record<string, unknown>;
}

/** Maps a row's source options onto ours where one exists (precision, allow_set_relation_comp). */
function optionsOf(row: Row): VerifyOptions {
  const o = row.options ?? {};
  const out: VerifyOptions = {};
  if (typeof o.precision === "number") out.decimalPlaces = o.precision;
  if (o.allow_set_relation_comp === true) out.relationAsSet = true;
  return out;
}

function readRows<T>(name: string): T[] {
  return Deno.readTextFileSync(sharedPath(`data/verifier/${name}`))
    .split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

interface ExtractionRow {
  input: string;
  expected: unknown;
  kind: string;
}

/** SymPy renderings used by the extraction vectors, in the LaTeX our verifier reads. */
const SYMPY_AS_LATEX: Record<string, string> = {
  "Union(Interval.open(-oo, -14), Interval.open(-3, oo))": "(-\\infty,-14)\\cup(-3,\\infty)",
  "Matrix([[1/50, 7/50], [7/50, 49/50]])": "\\begin{pmatrix}1/50&7/50\\\\7/50&49/50\\end{pmatrix}",
  "Eq(2*x + 4*y + z - 19, 0)": "2x+4y+z-19=0",
};

/** Whether our extraction agrees with one extraction vector (each expected form read as its source means it). */
function extractionAgrees(row: ExtractionRow): boolean {
  const e = row.expected;
  if (Array.isArray(e)) {
    return e.length === 0 ? extractAnswer(row.input) === null : verify(e[1], row.input).correct;
  }
  if (typeof e === "object" && e !== null) {
    const o = e as Record<string, string>;
    if (o.value !== undefined) return verify(o.value, row.input).correct;
    if (o.latex !== undefined) return verify(o.latex, row.input).correct;
    const m = /^parse\('(.*)'\)\[0\]$/.exec(o.any_match_first ?? "");
    return m !== null && verify(m[1], row.input).correct;
  }
  const text = String(e);
  if (text.startsWith("nothing extracted")) return extractAnswer(row.input) === null;
  if (text.startsWith("no sympy Integer")) {
    const got = extractAnswer(row.input);
    return got === null || !/^-?\d+$/.test(normalizeAnswer(got));
  }
  if (row.kind === "normalization") return normalizeAnswer(row.input) === text;
  return verify(SYMPY_AS_LATEX[text] ?? text, row.input).correct;
}

sharedTest("extraction vectors: report agreement", () => {
  const rows = readRows<ExtractionRow>("extraction_cases.jsonl");
  assert(rows.length >= 30);
  const misses = rows.filter((r) => !extractionAgrees(r));
  const pct = ((rows.length - misses.length) / rows.length) * 100;
  console.log(`extraction agreement: ${pct.toFixed(1)}% (${rows.length - misses.length}/${rows.length})`);
  for (const r of misses) {
    console.log(`  [${r.kind}] ${JSON.stringify(r.input)} expected ${JSON.stringify(r.expected)}`);
  }
  // Several rows assert non-default settings of their source (boxed matching switched off, first-match mode).
  assert(pct >= 80, `extraction agreement ${pct.toFixed(1)}% is below 80%`);
});

sharedTest("equivalence vectors: at least 97% agreement", () => {
  const rows = readRows<Row>("equivalence_cases.jsonl");
  assert(rows.length >= 300, `expected the full vector file, got ${rows.length} rows`);
  const misses: string[] = [];
  const byKind = new Map<string, number>();
  for (const row of rows) {
    const v = verify(row.gold, row.pred, optionsOf(row));
    if (v.correct !== row.expected) {
      byKind.set(row.kind, (byKind.get(row.kind) ?? 0) + 1);
      const short = (s: string) => JSON.stringify(s.length > 90 ? s.slice(0, 40) + " … " + s.slice(-40) : s);
      misses.push(
        `  [${row.kind}] gold=${short(row.gold)} pred=${short(row.pred)} expected=${row.expected} ` +
          `got=${v.status} extracted=${JSON.stringify(v.extracted)} (${v.reason})`,
      );
    }
  }
  const agreement = (rows.length - misses.length) / rows.length;
  console.log(
    `equivalence agreement: ${(agreement * 100).toFixed(1)}% (${rows.length - misses.length}/${rows.length})`,
  );
  console.log(`disagreements by kind: ${JSON.stringify(Object.fromEntries(byKind))}`);
  if (misses.length > 0) console.log(misses.join("\n"));
  assert(agreement >= 0.97, `agreement ${(agreement * 100).toFixed(1)}% is below 97%`);
});
