/**
 * Helpers shared by the verifier's tests: parse an answer string as the verifier does (normalise, then parse
 * with an unlimited budget), and the default comparison context.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { unlimitedBudget } from "./budget.ts";
import { type CompareContext, compareValues } from "./compare.ts";
import { normalizeAnswer } from "./normalize.ts";
import { parseAnswer } from "./parser.ts";
import type { Value } from "./value.ts";

/** `s` normalised and parsed with an unlimited budget. */
export function parseValue(s: string): Value {
  return parseAnswer(normalizeAnswer(s), unlimitedBudget());
}

/** `s` parsed (as {@linkcode parseValue}) as one expression; throws when it is not one. */
export function exprNode(s: string): MathNode {
  const v = parseValue(s);
  if (v.t !== "expr") throw new Error(`not an expression: ${s}`);
  return v.node;
}

/** A comparison context: unlimited budget, relative tolerance 1e-6, no rounding, seed 1, with `over` applied. */
export function testContext(over: Partial<CompareContext> = {}): CompareContext {
  return {
    budget: unlimitedBudget(),
    relTol: 1e-6,
    decimalPlaces: null,
    relationAsSet: false,
    seed: 1,
    ...over,
  };
}

/** Whether the prediction `p` matches the gold `g`, both parsed with {@linkcode parseValue}. */
export function sameAnswer(g: string, p: string, c: CompareContext = testContext()): boolean {
  return compareValues(parseValue(g), parseValue(p), c);
}
