/**
 * Answer-form constraints, for questions where an equal value is not enough ("factor completely",
 * "simplify", "give an exact answer", "to two decimal places"): checked on the response's parsed answer after
 * it has been found equal to the gold.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { freeVariables, hasDecimal } from "./evaluate.ts";
import { literals } from "./safe_math.ts";
import type { Value } from "./value.ts";

/**
 * The forms an answer can be asked for:
 * - `factored`: a product, with at least as many non-constant factors as the gold (`x(x-1)(x+1)`, not
 *   `x(x^2-1)` nor `x^3-x`);
 * - `expanded`: no sum multiplied or raised to a power (`x^2+2x+1`, not `(x+1)^2`);
 * - `simplified`: fractions of integers in lowest terms, square roots of integers with no square factor, no
 *   root in a denominator (`\\frac{\\sqrt{2}}{2}`, not `\\frac{1}{\\sqrt{2}}` nor `\\frac{2}{4}`);
 * - `exact`: no decimal numbers (`\\sqrt{2}`, not `1.414`);
 * - `decimal`: a decimal number (`0.5`, not `\\frac{1}{2}`).
 */
export type AnswerForm = "factored" | "expanded" | "simplified" | "exact" | "decimal";

/** Every {@linkcode AnswerForm}, for validating data files and flags. */
export const ANSWER_FORMS: readonly AnswerForm[] = ["factored", "expanded", "simplified", "exact", "decimal"];

interface Op {
  fn: string | { name: string };
  args: MathNode[];
}

function op(n: MathNode): string | null {
  if (n.type !== "OperatorNode" && n.type !== "FunctionNode") return null;
  const fn = (n as unknown as Op).fn;
  return typeof fn === "string" ? fn : fn.name;
}

function args(n: MathNode): MathNode[] {
  return (n as unknown as Op).args;
}

function isSum(n: MathNode): boolean {
  const o = op(n);
  return o === "add" || o === "subtract";
}

function integerValue(n: MathNode): number | null {
  if (n.type !== "ConstantNode") return null;
  const lit = literals.get(n) ?? "";
  return /^\d+$/.test(lit) ? Number(lit) : null;
}

function isConstant(n: MathNode): boolean {
  return freeVariables(n).size === 0;
}

/** Non-constant factors of a product, a power of a factor counting as many as its integer exponent. */
function factorCount(n: MathNode): number {
  const o = op(n);
  if (o === "unaryMinus") return factorCount(args(n)[0]);
  if (o === "multiply") return args(n).reduce((k, a) => k + factorCount(a), 0);
  if (o === "divide") return factorCount(args(n)[0]);
  if (o === "pow") {
    const e = integerValue(args(n)[1]);
    return e !== null && isSum(args(n)[0]) ? e * factorCount(args(n)[0]) : factorCount(args(n)[0]);
  }
  return isConstant(n) ? 0 : 1;
}

function isFactored(pred: MathNode, gold: MathNode): boolean {
  let top = pred;
  while (op(top) === "unaryMinus") top = args(top)[0];
  if (isSum(top)) return false;
  return factorCount(pred) >= factorCount(gold);
}

function isExpanded(n: MathNode): boolean {
  let ok = true;
  n.traverse((m) => {
    const o = op(m);
    if (o === "multiply" && args(m).some(isSum)) ok = false;
    if (o === "pow" && isSum(args(m)[0]) && (integerValue(args(m)[1]) ?? 0) >= 2) ok = false;
  });
  return ok;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function hasSquareFactor(k: number): boolean {
  for (let d = 2; d * d <= k && d < 100_000; d++) if (k % (d * d) === 0) return true;
  return false;
}

function hasRoot(n: MathNode): boolean {
  let found = false;
  n.traverse((m) => {
    if (op(m) === "sqrt" || op(m) === "nthRoot") found = true;
  });
  return found;
}

function isSimplified(n: MathNode): boolean {
  let ok = true;
  n.traverse((m) => {
    const o = op(m);
    if (o === "divide") {
      const [a, b] = args(m).map(integerValue);
      if (a !== null && b !== null && (b === 1 || gcd(a, b) > 1)) ok = false;
      if (hasRoot(args(m)[1])) ok = false;
    }
    if (o === "sqrt") {
      const k = integerValue(args(m)[0]);
      if (k !== null && hasSquareFactor(k)) ok = false;
    }
  });
  return ok;
}

function isDecimal(n: MathNode): boolean {
  while (op(n) === "unaryMinus") n = args(n)[0];
  return n.type === "ConstantNode";
}

function scalars(v: Value): MathNode[] | null {
  if (v.t === "expr") return [v.node];
  if (v.t === "list" || v.t === "tuple") {
    const all = v.items.map(scalars);
    return all.some((x) => x === null) ? null : all.flat() as MathNode[];
  }
  if (v.t === "rel") return scalars(v.terms[v.terms.length - 1]);
  return null;
}

/**
 * Null when the response's answer `pred` (already found equal to `gold`) is written in `form`, otherwise the
 * reason it is not.
 */
export function formProblem(form: AnswerForm, gold: Value, pred: Value): string | null {
  const ps = scalars(pred), gs = scalars(gold);
  if (ps === null || gs === null) return null;
  const bad = ps.some((p, k) => {
    switch (form) {
      case "factored":
        return !isFactored(p, gs[Math.min(k, gs.length - 1)]);
      case "expanded":
        return !isExpanded(p);
      case "simplified":
        return !isSimplified(p);
      case "exact":
        return hasDecimal(p);
      case "decimal":
        return !isDecimal(p);
    }
  });
  return bad ? `the answer equals the gold but is not in ${form} form` : null;
}
