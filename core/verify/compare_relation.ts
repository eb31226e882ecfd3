/**
 * Relations: equations (assignments `x = 3`, chains `x = 5+5+1 = 11`, equality up to a scalar factor or of
 * real solution sets), memberships `x \\in S`, and inequalities compared as the sets they describe
 * (`x \\le 5` is `5 \\ge x` is `(-\\infty, 5]`). The gold decides: a gold inequality accepts an interval,
 * a gold interval accepts an inequality only with `relationAsSet`.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { type CompareContext, proportional, sameRealRoots } from "./compare_expr.ts";
import { CONSTANTS, freeVariables } from "./evaluate.ts";
import { binaryNode, negateNode, symbolNode } from "./safe_math.ts";
import type { RelOp, Value } from "./value.ts";

/** The comparison of two values, passed in so that this module and the dispatcher need not import each other. */
export type Compare = (g: Value, p: Value, ctx: CompareContext) => boolean;

interface Named {
  name: string;
}
interface Call {
  fn: { name: string } | string;
  args: MathNode[];
}

function isAssignableNode(n: MathNode): boolean {
  switch (n.type) {
    case "SymbolNode":
      return !CONSTANTS.has((n as unknown as Named).name);
    case "FunctionNode": {
      const f = n as unknown as Call;
      const name = (f.fn as Named).name;
      if (name.endsWith("_")) return true;
      return (name === "abs" || name === "prime") && f.args.every(isAssignableNode);
    }
    case "OperatorNode": {
      const f = n as unknown as Call;
      return (f.fn === "multiply" || f.fn === "divide") && f.args.every(isAssignableNode);
    }
  }
  return false;
}

/** True for the left side of an assignment: `x`, `f(x)`, `x_1`, `|AB|`, `NO/BO`, `(p, q)`; not `2x+z`. */
export function isAssignable(v: Value): boolean {
  if (v.t === "expr") return isAssignableNode(v.node);
  if (v.t === "tuple") return v.items.every(isAssignable);
  return false;
}

/** Each relation operator with its sides swapped (`<` becomes `>`). */
export const FLIP: Record<string, RelOp> = {
  "<": ">",
  ">": "<",
  "≤": "≥",
  "≥": "≤",
  "=": "=",
  "≠": "≠",
  "∈": "∈",
};

function infinity(sign: number): Value {
  const inf = symbolNode("Infinity");
  return { t: "expr", node: sign < 0 ? negateNode(inf) : inf, pct: false };
}

function isConstant(v: Value): boolean {
  return v.t === "expr" && freeVariables(v.node).size === 0;
}

function variableKey(v: Value): string | null {
  return v.t === "expr" && !isConstant(v) ? v.node.toString() : null;
}

/** The set an inequality describes, as intervals over its one variable, or null when it is not that simple. */
function relationSet(rel: Value & { t: "rel" }): { key: string; set: Value } | null {
  let { terms, ops } = rel;
  if (ops.some((o) => o === "=" || o === "∈")) return null;
  if (terms.length === 2) {
    if (isConstant(terms[0]) && !isConstant(terms[1])) {
      terms = [terms[1], terms[0]];
      ops = [FLIP[ops[0]]];
    }
    const key = variableKey(terms[0]);
    if (key === null || !isConstant(terms[1])) return null;
    const b = terms[1];
    switch (ops[0]) {
      case "<":
        return { key, set: { t: "tuple", items: [infinity(-1), b], open: "(", close: ")" } };
      case "≤":
        return { key, set: { t: "tuple", items: [infinity(-1), b], open: "(", close: "]" } };
      case ">":
        return { key, set: { t: "tuple", items: [b, infinity(1)], open: "(", close: ")" } };
      case "≥":
        return { key, set: { t: "tuple", items: [b, infinity(1)], open: "[", close: ")" } };
      case "≠":
        return {
          key,
          set: {
            t: "union",
            parts: [
              { t: "tuple", items: [infinity(-1), b], open: "(", close: ")" },
              { t: "tuple", items: [b, infinity(1)], open: "(", close: ")" },
            ],
          },
        };
    }
    return null;
  }
  if (terms.length === 3) {
    if (ops[0] === ">" || ops[0] === "≥") {
      terms = [terms[2], terms[1], terms[0]];
      ops = [FLIP[ops[1]], FLIP[ops[0]]];
    }
    if (!ops.every((o) => o === "<" || o === "≤")) return null;
    const key = variableKey(terms[1]);
    if (key === null || !isConstant(terms[0]) || !isConstant(terms[2])) return null;
    const open = ops[0] === "<" ? "(" : "[", close = ops[1] === "<" ? ")" : "]";
    const interval: Value = { t: "tuple", items: [terms[0], terms[2]], open, close };
    const inner = terms[1];
    if (
      inner.t === "expr" && inner.node.type === "FunctionNode" && inner.node.toString().startsWith("abs(")
    ) {
      // a ≤ |z| ≤ b  ⇔  z ∈ [-b, -a] ∪ [a, b]
      const arg = (inner.node as unknown as Call).args[0];
      const neg = (v: Value): Value => ({
        t: "expr",
        node: negateNode((v as { node: MathNode }).node),
        pct: false,
      });
      const mirror: Value = {
        t: "tuple",
        items: [neg(terms[2]), neg(terms[0])],
        open: close === "]" ? "[" : "(",
        close: open === "[" ? "]" : ")",
      };
      return { key: arg.toString(), set: { t: "union", parts: [mirror, interval] } };
    }
    return { key, set: interval };
  }
  return null;
}

function relationsEqual(
  g: Value & { t: "rel" },
  p: Value & { t: "rel" },
  ctx: CompareContext,
  cmp: Compare,
): boolean {
  const gs = relationSet(g), ps = relationSet(p);
  if (gs && ps) return gs.key === ps.key && cmp(gs.set, ps.set, ctx);
  const same = (ops: RelOp[], terms: Value[]) =>
    ops.length === g.ops.length && ops.every((o, k) => o === g.ops[k]) &&
    terms.every((t, k) => cmp(g.terms[k], t, ctx));
  if (same(p.ops, p.terms)) return true;
  return same(p.ops.map((o) => FLIP[o]).reverse(), [...p.terms].reverse());
}

function equationsEqual(
  g: Value & { t: "rel" },
  p: Value & { t: "rel" },
  ctx: CompareContext,
  cmp: Compare,
): boolean {
  const gl = g.terms[0], gr = g.terms[g.terms.length - 1];
  const pl = p.terms[0], pr = p.terms[p.terms.length - 1];
  if (isAssignable(gl) && isAssignable(pl)) return cmp(gr, pr, ctx);
  if (cmp(gl, pl, ctx) && cmp(gr, pr, ctx)) return true;
  if (gl.t === "expr" && gr.t === "expr" && pl.t === "expr" && pr.t === "expr") {
    const gd = binaryNode("-", gl.node, gr.node), pd = binaryNode("-", pl.node, pr.node);
    return proportional(gd, pd, ctx) || sameRealRoots(gd, pd, ctx);
  }
  return false;
}

/** Compares against a gold relation: an equation, a membership `x \\in S` or an inequality. */
export function goldRelation(g: Value & { t: "rel" }, p: Value, ctx: CompareContext, cmp: Compare): boolean {
  if (g.ops.every((o) => o === "=")) {
    if (p.t === "rel") return p.ops.every((o) => o === "=") && equationsEqual(g, p, ctx, cmp);
    return isAssignable(g.terms[g.terms.length - 2]) && cmp(g.terms[g.terms.length - 1], p, ctx);
  }
  if (g.ops.length === 1 && g.ops[0] === "∈") {
    if (p.t === "rel") {
      if (p.ops.length === 1 && p.ops[0] === "∈") return cmp(g.terms[1], p.terms[1], ctx);
      const ps = ctx.relationAsSet ? relationSet(p) : null;
      return ps !== null && cmp(g.terms[1], ps.set, ctx);
    }
    return cmp(g.terms[1], p, ctx);
  }
  const gs = relationSet(g);
  if (p.t === "rel") {
    if (gs !== null && p.ops.length === 1 && p.ops[0] === "∈") return cmp(gs.set, p.terms[1], ctx);
    return relationsEqual(g, p, ctx, cmp);
  }
  return gs !== null && (p.t === "tuple" || p.t === "union") && cmp(gs.set, p, ctx);
}

/** Compares a response relation against a gold that is not one (`x = 3` for `3`). */
export function predRelation(g: Value, p: Value & { t: "rel" }, ctx: CompareContext, cmp: Compare): boolean {
  if (p.ops.every((o) => o === "=")) return cmp(g, p.terms[p.terms.length - 1], ctx);
  if (p.ops.length === 1 && p.ops[0] === "∈") return cmp(g, p.terms[1], ctx);
  if (!ctx.relationAsSet) return false;
  const ps = relationSet(p);
  return ps !== null && cmp(g, ps.set, ctx);
}
