/**
 * Readers for maths datasets stored as JSON Lines in the common layouts. Core does no I/O: the caller reads the
 * file and passes its text and name.
 *
 * @module
 */

import { lastBoxed } from "../verify/extract.ts";
import { ANSWER_FORMS, type AnswerForm } from "../verify/form.ts";
import type { Problem } from "./problem.ts";

/**
 * Row layouts: "gsm8k" (`question`, `answer` ending `#### N`), "math" (`problem`, and `answer` or a `solution`
 * with a boxed answer), "olympiadbench" (`question`, `final_answer` a list of LaTeX answers, or that list as a
 * string; optional `context`), "svamp" (`Body`, `Question`, `Answer`), or "auto" to detect per row.
 */
export type JsonlLayout = "gsm8k" | "math" | "olympiadbench" | "svamp" | "auto";

const LAYOUTS: readonly JsonlLayout[] = ["gsm8k", "math", "olympiadbench", "svamp", "auto"];

type Row = Record<string, unknown>;

function detect(row: Row): Exclude<JsonlLayout, "auto"> | null {
  if ("final_answer" in row) return "olympiadbench";
  if ("Body" in row && "Question" in row && "Answer" in row) return "svamp";
  if (typeof row.question === "string" && typeof row.answer === "string" && row.answer.includes("####")) {
    return "gsm8k";
  }
  if (typeof row.problem === "string") return "math";
  return null;
}

function answerText(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  return null;
}

/** Removes the `$...$` math delimiters of an answer (escaped `\\$` stays) and a period after the last one. */
function stripDollars(s: string): string {
  const t = s.trim();
  return (t.endsWith("$.") ? t.slice(0, -1) : t).replace(/(?<!\\)\$/g, "").trim();
}

function plainNumber(s: string): string {
  return /^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s) ? s.replaceAll(",", "") : s;
}

function olympiadAnswers(value: unknown): string[] | null {
  let list = value;
  if (typeof value === "string") {
    try {
      list = JSON.parse(value);
    } catch {
      return [value];
    }
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string")) return null;
  return list.map(stripDollars);
}

function rowToProblem(
  row: Row,
  layout: Exclude<JsonlLayout, "auto">,
  source: string,
  fileName: string,
  line: number,
): Problem {
  const fail = (why: string): never => {
    throw new SyntaxError(`${fileName}: line ${line}: ${why}`);
  };
  const rowId = row.id ?? row.idx ?? row.unique_id ?? row.ID;
  const id = `${source}-${typeof rowId === "string" || typeof rowId === "number" ? rowId : line}`;
  switch (layout) {
    case "gsm8k": {
      if (typeof row.question !== "string") fail(`"question" must be a string`);
      const answer = typeof row.answer === "string" ? row.answer : fail(`"answer" must be a string`);
      const at = answer.lastIndexOf("####");
      if (at < 0) fail(`"answer" has no "#### N" final answer`);
      const gold = plainNumber(answer.slice(at + 4).trim());
      if (gold === "") fail(`"answer" has an empty "####" final answer`);
      const steps = answer.slice(0, at).replace(/<<[^>]*>>/g, "").trim();
      return { id, prompt: row.question as string, gold, solution: `${steps}\n\\boxed{${gold}}`, source };
    }
    case "math": {
      if (typeof row.problem !== "string") fail(`"problem" must be a string`);
      const solution = typeof row.solution === "string" ? row.solution : undefined;
      const gold = answerText(row.answer) ?? (solution !== undefined ? lastBoxed(solution) : null) ??
        fail(`no "answer" and no \\boxed{} answer in "solution"`);
      return solution !== undefined && lastBoxed(solution) !== null
        ? { id, prompt: row.problem as string, gold, solution, source }
        : { id, prompt: row.problem as string, gold, source };
    }
    case "olympiadbench": {
      if (typeof row.question !== "string") fail(`"question" must be a string`);
      const answers = olympiadAnswers(row.final_answer) ??
        fail(`"final_answer" must be a non-empty list of strings`);
      const context = typeof row.context === "string" && row.context.trim() !== "" ? `${row.context}\n` : "";
      return { id, prompt: `${context}${row.question}`, gold: answers.join(", "), source };
    }
    case "svamp": {
      if (typeof row.Body !== "string" || typeof row.Question !== "string") {
        fail(`"Body" and "Question" must be strings`);
      }
      const gold = answerText(row.Answer) ?? fail(`"Answer" must be a number`);
      const body = (row.Body as string).trim();
      return { id, prompt: `${body}${/[.?!]$/.test(body) ? "" : "."} ${row.Question}`, gold, source };
    }
  }
}

/**
 * Parses JSON Lines `text` of a dataset into problems. `fileName` names the source in errors and in each
 * problem's `source` (its base name without directories and extension); ids are `{source}-{row id}` (the row's
 * `id`/`idx`/`unique_id`/`ID`, else its line number). A row may name the answer `form` its question asks for
 * (`"factored"`, ...; see `AnswerForm`). Blank lines are skipped. Throws a SyntaxError naming the file
 * and the 1-based line for invalid JSON, a row that is not an object, an undetectable layout, or a missing answer.
 */
export function parseJsonl(text: string, fileName: string, layout: JsonlLayout = "auto"): Problem[] {
  if (!LAYOUTS.includes(layout)) {
    throw new RangeError(`parseJsonl: unknown layout "${layout}" (expected one of ${LAYOUTS.join(", ")})`);
  }
  const source = fileName.replace(/^.*[\\/]/, "").replace(/\.jsonl?$/i, "");
  const problems: Problem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch (e) {
      throw new SyntaxError(`${fileName}: line ${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new SyntaxError(`${fileName}: line ${i + 1}: expected a JSON object`);
    }
    const rowLayout = layout === "auto" ? detect(row as Row) : layout;
    if (rowLayout === null) {
      throw new SyntaxError(
        `${fileName}: line ${i + 1}: unknown layout (keys: ${Object.keys(row).join(", ")}); pass a layout`,
      );
    }
    const problem = rowToProblem(row as Row, rowLayout, source, fileName, i + 1);
    const form = (row as Row).form;
    if (form !== undefined) {
      if (!ANSWER_FORMS.includes(form as AnswerForm)) {
        throw new SyntaxError(
          `${fileName}: line ${i + 1}: "form" must be one of ${ANSWER_FORMS.join(", ")}`,
        );
      }
      problem.form = form as AnswerForm;
    }
    problems.push(problem);
  }
  return problems;
}
