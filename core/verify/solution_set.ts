/**
 * Solution sets of one real variable: intervals, unions, inequalities (chains, `≠`, linear ones solved
 * first, so `2x < 4` is `x < 2`), memberships `x \\in S`, and inequalities joined by "or"/"and" or listed
 * with commas, all turned into sorted disjoint intervals and compared numerically.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { type CompareContext, realValue } from "./compare_expr.ts";
import { type Complex, evalComplex, freeVariables } from "./evaluate.ts";
import { FLIP } from "./compare_relation.ts";
import { binaryNode } from "./safe_math.ts";
import { isInequality, type RelOp, type Value } from "./value.ts";

interface Interval {
  lo: number;
  hi: number;
  loIn: boolean;
  hiIn: boolean;
}

/** A set of reals as sorted, disjoint, non-empty intervals (a point is a closed interval of length 0). */
type RealSet = Interval[];

/** A set, and the variable it is the solution set for (null when written as intervals only). */
interface SolutionSet {
  variable: string | null;
  set: RealSet;
}

const TOL = 1e-9;

function normalize(intervals: Interval[]): RealSet {
  const live = intervals
    .filter((iv) => iv.lo < iv.hi || (iv.lo === iv.hi && iv.loIn && iv.hiIn && Number.isFinite(iv.lo)))
    .sort((a, b) => a.lo - b.lo || Number(b.loIn) - Number(a.loIn));
  const out: RealSet = [];
  for (const iv of live) {
    const last = out[out.length - 1];
    if (last && (iv.lo < last.hi || (iv.lo === last.hi && (last.hiIn || iv.loIn)))) {
      if (iv.hi > last.hi || (iv.hi === last.hi && iv.hiIn)) [last.hi, last.hiIn] = [iv.hi, iv.hiIn];
    } else out.push({ ...iv });
  }
  return out;
}

function intersect(a: RealSet, b: RealSet): RealSet {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const [lo, loIn] = x.lo > y.lo
        ? [x.lo, x.loIn]
        : y.lo > x.lo
        ? [y.lo, y.loIn]
        : [x.lo, x.loIn && y.loIn];
      const [hi, hiIn] = x.hi < y.hi
        ? [x.hi, x.hiIn]
        : y.hi < x.hi
        ? [y.hi, y.hiIn]
        : [x.hi, x.hiIn && y.hiIn];
      out.push({ lo, hi, loIn, hiIn });
    }
  }
  return normalize(out);
}

function near(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= TOL * Math.max(1, Math.abs(a), Math.abs(b));
}

function setsEqual(a: RealSet, b: RealSet): boolean {
  return a.length === b.length && a.every((x, k) => {
    const y = b[k];
    return near(x.lo, y.lo) && near(x.hi, y.hi) && (!Number.isFinite(x.lo) || x.loIn === y.loIn) &&
      (!Number.isFinite(x.hi) || x.hiIn === y.hiIn);
  });
}

function constantOf(v: Value, ctx: CompareContext): number | null {
  return v.t === "expr" ? realValue(v.node, ctx) : null;
}

/** `{ x : x op c }` as intervals. */
function halfLine(op: RelOp, c: number): RealSet | null {
  switch (op) {
    case "<":
      return normalize([{ lo: -Infinity, hi: c, loIn: false, hiIn: false }]);
    case "≤":
      return normalize([{ lo: -Infinity, hi: c, loIn: false, hiIn: true }]);
    case ">":
      return normalize([{ lo: c, hi: Infinity, loIn: false, hiIn: false }]);
    case "≥":
      return normalize([{ lo: c, hi: Infinity, loIn: true, hiIn: false }]);
    case "=":
      return normalize([{ lo: c, hi: c, loIn: true, hiIn: true }]);
    case "≠":
      return normalize([
        { lo: -Infinity, hi: c, loIn: false, hiIn: false },
        { lo: c, hi: Infinity, loIn: false, hiIn: false },
      ]);
  }
  return null;
}

/** `a·x + b` for a tree linear in its only variable `x` (checked at three points), or null. */
function linear(node: MathNode, x: string, ctx: CompareContext): { a: number; b: number } | null {
  const scope = new Map<string, Complex>();
  const at = (t: number) => {
    scope.set(x, { re: t, im: 0 });
    const v = evalComplex(node, scope, ctx.budget);
    return v.im === 0 && Number.isFinite(v.re) ? v.re : NaN;
  };
  const b = at(0), a = at(1) - b, check = at(2.5);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return null;
  return near(check, 2.5 * a + b) && near(at(-7), -7 * a + b) ? { a, b } : null;
}

/** The one variable of a relation's terms, or null when there is not exactly one. */
function onlyVariable(terms: Value[]): string | null {
  const vars = new Set<string>();
  for (const t of terms) {
    if (t.t !== "expr") return null;
    for (const v of freeVariables(t.node)) vars.add(v);
  }
  return vars.size === 1 ? [...vars][0] : null;
}

function fromRelation(rel: Value & { t: "rel" }, ctx: CompareContext): SolutionSet | null {
  if (rel.ops.length === 1 && rel.ops[0] === "∈") {
    const inner = fromValue(rel.terms[1], ctx);
    const v = rel.terms[0];
    if (inner === null || v.t !== "expr" || v.node.type !== "SymbolNode") return null;
    return { variable: (v.node as unknown as { name: string }).name, set: inner.set };
  }
  const x = onlyVariable(rel.terms);
  if (x === null || rel.ops.some((o) => o === "∈")) return null;
  const nodes = rel.terms.map((t) => (t as { node: MathNode }).node);
  if (rel.terms.length === 2) {
    // A op B  ⇔  A - B op 0  ⇔  a·x + b op 0, solved when A - B is linear in x (`2x + 1 < x + 3`).
    const lin = linear(binaryNode("-", nodes[0], nodes[1]), x, ctx);
    if (lin === null) return null;
    const op = rel.ops[0];
    const set = halfLine(lin.a < 0 ? FLIP[op] : op, -lin.b / lin.a);
    return set && { variable: x, set };
  }
  if (rel.terms.length === 3) {
    // lo op1 a·x + b op2 hi: both halves solved for x, then intersected.
    const lo = realValue(nodes[0], ctx), hi = realValue(nodes[2], ctx);
    const lin = linear(nodes[1], x, ctx);
    if (lo === null || hi === null || lin === null) return null;
    const side = (op: RelOp, bound: number) => halfLine(lin.a < 0 ? FLIP[op] : op, (bound - lin.b) / lin.a);
    const a = side(FLIP[rel.ops[0]], lo), b = side(rel.ops[1], hi);
    if (a === null || b === null) return null;
    return { variable: x, set: intersect(a, b) };
  }
  return null;
}

function combine(parts: SolutionSet[], op: "or" | "and"): SolutionSet | null {
  const vars = new Set(parts.map((p) => p.variable).filter((v) => v !== null));
  if (vars.size > 1) return null;
  const variable = vars.size === 1 ? [...vars][0] : null;
  if (op === "or") return { variable, set: normalize(parts.flatMap((p) => p.set)) };
  return { variable, set: parts.map((p) => p.set).reduce(intersect) };
}

/** The set a value describes, or null when it is not a set of reals in at most one variable. */
function fromValue(v: Value, ctx: CompareContext): SolutionSet | null {
  ctx.budget.tick();
  switch (v.t) {
    case "tuple": {
      if (v.items.length !== 2) return null;
      const lo = constantOf(v.items[0], ctx), hi = constantOf(v.items[1], ctx);
      if (lo === null || hi === null || lo > hi) return null;
      return { variable: null, set: normalize([{ lo, hi, loIn: v.open === "[", hiIn: v.close === "]" }]) };
    }
    case "list": {
      if (v.items.length > 1 && v.items.every(isInequality)) {
        const parts = v.items.map((it) => fromValue(it, ctx));
        if (parts.some((p) => p === null)) return null;
        // Listed inequalities that cannot hold together are alternatives; overlapping ones are conditions.
        const sets = parts as SolutionSet[];
        const disjoint = combine(sets, "and")?.set.length === 0;
        return combine(sets, disjoint ? "or" : "and");
      }
      const points = v.items.map((it) => constantOf(it, ctx));
      if (points.some((p) => p === null || !Number.isFinite(p))) return null;
      return {
        variable: null,
        set: normalize(points.map((p) => ({ lo: p!, hi: p!, loIn: true, hiIn: true }))),
      };
    }
    case "union": {
      const parts = v.parts.map((it) => fromValue(it, ctx));
      return parts.some((p) => p === null) ? null : combine(parts as SolutionSet[], "or");
    }
    case "logic": {
      const parts = v.items.map((it) => fromValue(it, ctx));
      return parts.some((p) => p === null) ? null : combine(parts as SolutionSet[], v.op);
    }
    case "rel":
      return fromRelation(v, ctx);
  }
  return null;
}

/** True for the forms that only make sense as a set: inequalities, and inequalities joined or listed. */
function isSetForm(v: Value): boolean {
  return v.t === "logic" || isInequality(v) ||
    (v.t === "list" && v.items.length > 1 && v.items.every(isInequality));
}

/** True for a gold that can only be read as a set: a union, or an interval with a bracket or an infinity. */
function isPlainlyInterval(g: Value, ctx: CompareContext): boolean {
  if (g.t === "union") return true;
  if (g.t !== "tuple" || g.items.length !== 2) return false;
  if (g.open === "[" || g.close === "]") return true;
  return g.items.some((it) => {
    const c = constantOf(it, ctx);
    return c !== null && !Number.isFinite(c);
  });
}

/**
 * Compares two answers as solution sets when one of them is written as inequalities, or null to leave the
 * comparison to the other rules (neither is such a form, or a side cannot be read as a set). The gold decides:
 * a `(a, b)` gold may be a point, so it accepts inequalities only with `relationAsSet`.
 */
export function compareAsSets(g: Value, p: Value, ctx: CompareContext): boolean | null {
  const goldForm = isSetForm(g), predForm = isSetForm(p);
  if (!goldForm && !predForm) return null;
  if (!goldForm && !ctx.relationAsSet && !isPlainlyInterval(g, ctx)) return null;
  const gs = fromValue(g, ctx);
  const ps = gs === null ? null : fromValue(p, ctx);
  if (gs === null || ps === null) return null;
  if (gs.variable !== null && ps.variable !== null && gs.variable !== ps.variable) return false;
  return setsEqual(gs.set, ps.set);
}
