/**
 * The structured answer values the parser produces and the comparators consume. Scalars are mathjs
 * expression trees; everything around them (lists, tuples, intervals, matrices, relations) is a plain object.
 *
 * @module
 */

import type { MathNode } from "mathjs";

/** A relation operator of a (possibly chained) relation. */
export type RelOp = "=" | "<" | ">" | "≤" | "≥" | "≠" | "∈";

/** A parsed answer. */
export type Value =
  /**
   * A scalar expression; `pct` marks a percentage (the node already holds the value / 100), `deg` an angle
   * written in degrees outside a trigonometric function (the node holds the number of degrees).
   */
  | { t: "expr"; node: MathNode; pct: boolean; deg?: boolean }
  /** Words (`\text{Evelyn}`), compared as text. */
  | { t: "text"; text: string }
  /**
   * An unordered collection: a bare comma list, a `{..}` set, several boxed answers, a `\pm` expansion
   * (marked `pm`, so that a list around it takes its members as its own).
   */
  | { t: "list"; items: Value[]; pm?: boolean }
  /** An ordered tuple or an interval: `(a, b)`, `[a, b)`, `(1, 2, 3)`. */
  | { t: "tuple"; items: Value[]; open: "(" | "["; close: ")" | "]" }
  /** A union of intervals or sets. */
  | { t: "union"; parts: Value[] }
  /** A matrix or vector (rows of cells). */
  | { t: "matrix"; rows: Value[][] }
  /** Relations joined by "or" (`\\lor`, `\\vee`) or "and" (`\\land`, `\\wedge`): `x < -2 \\lor x > 3`. */
  | { t: "logic"; op: "or" | "and"; items: Value[] }
  /** A relation chain `terms[0] ops[0] terms[1] ...`. */
  | { t: "rel"; terms: Value[]; ops: RelOp[] }
  /** A time of day `hh:mm[:ss]`, in seconds; `ratio` reads `hh:mm` as the ratio `hh/mm` instead. */
  | { t: "time"; seconds: number; ratio: MathNode | null }
  /** An ellipsis (`\dots`), which never equals anything concrete. */
  | { t: "dots" };

const INEQUALITY_OPS: ReadonlySet<RelOp> = new Set(["<", ">", "≤", "≥", "≠"]);

/** True for a relation with at least one inequality sign (`x < 3`, `1 \\le x < 2`, `x \\ne 0`). */
export function isInequality(v: Value): boolean {
  return v.t === "rel" && v.ops.some((o) => INEQUALITY_OPS.has(o));
}
