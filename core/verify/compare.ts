/**
 * Comparison of parsed answers by type, with the gold deciding the expected form (Math-Verify semantics):
 * sets are unordered, tuples ordered (a tuple gold accepts its set sorted), intervals need the same
 * brackets, unions compare as sets of parts, matrices compare cell by cell, words compare as text;
 * relations are handed to `compare_relation.ts`.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { type CompareContext, expressionsEqual, realValue } from "./compare_expr.ts";
import { goldRelation, predRelation } from "./compare_relation.ts";
import { freeVariables } from "./evaluate.ts";
import { binaryNode, constantNode, symbolNode } from "./safe_math.ts";
import { compareAsSets } from "./solution_set.ts";
import type { Value } from "./value.ts";

export type { CompareContext } from "./compare_expr.ts";

interface Named {
  name: string;
}
interface Call {
  fn: { name: string } | string;
  args: MathNode[];
}

function textOf(v: Value): string | null {
  if (v.t === "text") return v.text.toLowerCase().replace(/[\s().]+/g, "");
  if (v.t !== "expr") return null;
  const letters: string[] = [];
  const walk = (n: MathNode): boolean => {
    if (n.type === "SymbolNode") {
      letters.push((n as unknown as Named).name);
      return true;
    }
    const f = n as unknown as Call;
    return n.type === "OperatorNode" && f.fn === "multiply" && f.args.every(walk);
  };
  return walk(v.node) ? letters.join("").toLowerCase() : null;
}

function dedupe(items: Value[], ctx: CompareContext): Value[] {
  const out: Value[] = [];
  for (const it of items) if (!out.some((o) => compareValues(o, it, ctx))) out.push(it);
  return out;
}

function unordered(gold: Value[], pred: Value[], ctx: CompareContext): boolean {
  const g = dedupe(gold, ctx), p = dedupe(pred, ctx);
  if (g.length !== p.length) return false;
  const used = new Array(p.length).fill(false);
  for (const gi of g) {
    const k = p.findIndex((pi, j) => !used[j] && compareValues(gi, pi, ctx));
    if (k < 0) return false;
    used[k] = true;
  }
  return true;
}

function ordered(gold: Value[], pred: Value[], ctx: CompareContext): boolean {
  return gold.length === pred.length && gold.every((g, k) => compareValues(g, pred[k], ctx));
}

function sortedByValue(items: Value[], ctx: CompareContext): Value[] {
  const keyed = items.map((v) => ({ v, k: v.t === "expr" ? realValue(v.node, ctx) : null }));
  if (keyed.some((x) => x.k === null)) return items;
  return keyed.sort((a, b) => a.k! - b.k!).map((x) => x.v);
}

function asMatrix(v: Value): Value[][] | null {
  if (v.t === "matrix") return v.rows;
  if (v.t === "tuple") {
    if (v.items.every((r) => r.t === "tuple")) return v.items.map((r) => (r as { items: Value[] }).items);
    return v.items.map((x) => [x]);
  }
  return null;
}

function matricesEqual(g: Value[][], p: Value[][], ctx: CompareContext): boolean {
  const flat = (m: Value[][]) => (m.length === 1 ? m[0].map((x) => [x]) : m);
  if (g.length === 1 || p.length === 1) [g, p] = [flat(g), flat(p)];
  if (g.length !== p.length || g.some((r, i) => r.length !== p[i].length)) return false;
  return g.every((r, i) => r.every((c, j) => compareValues(c, p[i][j], ctx)));
}

/** `node` degrees in radians. */
function radians(node: MathNode): MathNode {
  return binaryNode("*", node, binaryNode("/", symbolNode("pi"), constantNode(180, "180")));
}

function scalarsEqual(g: Value & { t: "expr" }, p: Value & { t: "expr" }, ctx: CompareContext): boolean {
  if (expressionsEqual(g.node, p.node, ctx)) return true;
  // An angle in degrees against one in radians (`60^\circ` and `\frac{\pi}{3}`).
  if (g.deg !== p.deg && !hasVariables(g.node) && !hasVariables(p.node)) {
    const [gn, pn] = g.deg ? [radians(g.node), p.node] : [g.node, radians(p.node)];
    if (expressionsEqual(gn, pn, ctx)) return true;
  }
  // A percentage gold accepts the bare number of percent (`28\%` vs `28`).
  return g.pct && !p.pct && expressionsEqual(binaryNode("*", g.node, constantNode(100, "100")), p.node, ctx);
}

function hasVariables(node: MathNode): boolean {
  return freeVariables(node).size > 0;
}

function unionParts(v: Value): Value[] {
  return v.t === "union" ? v.parts : [v];
}

/** True when the response's parsed answer `p` matches the gold's parsed answer `g`. */
export function compareValues(g: Value, p: Value, ctx: CompareContext): boolean {
  ctx.budget.tick();
  const asSets = compareAsSets(g, p, ctx);
  if (asSets !== null) return asSets;
  if (g.t === "logic") return p.t === "logic" && g.op === p.op && unordered(g.items, p.items, ctx);
  if (p.t === "logic") return false;
  if (g.t === "rel") return goldRelation(g, p, ctx, compareValues);
  if (p.t === "rel") return predRelation(g, p, ctx, compareValues);
  if (g.t === "dots" || p.t === "dots") return false;
  if (g.t === "text" || p.t === "text") {
    const a = textOf(g);
    return a !== null && a === textOf(p);
  }
  if (g.t === "time" || p.t === "time") {
    if (g.t === "time" && p.t === "time") return g.seconds === p.seconds;
    const gn = g.t === "time" ? g.ratio : g.t === "expr" ? g.node : null;
    const pn = p.t === "time" ? p.ratio : p.t === "expr" ? p.node : null;
    return gn !== null && pn !== null && expressionsEqual(gn, pn, ctx);
  }
  if (g.t === "matrix" || p.t === "matrix") {
    const gm = asMatrix(g), pm = asMatrix(p);
    return gm !== null && pm !== null && matricesEqual(gm, pm, ctx);
  }
  if (g.t === "union" || p.t === "union") {
    const gp = unionParts(g), pp = unionParts(p);
    if (gp.every((x) => x.t === "list") && pp.every((x) => x.t === "list")) {
      return unordered(
        gp.flatMap((x) => (x as { items: Value[] }).items),
        pp.flatMap((x) => (x as { items: Value[] }).items),
        ctx,
      );
    }
    return unordered(gp, pp, ctx);
  }
  switch (g.t) {
    case "list": {
      const items = p.t === "list" || p.t === "tuple" ? p.items : [p];
      return unordered(g.items, items, ctx);
    }
    case "tuple": {
      if (p.t === "tuple") {
        if (g.items.length === 2 && (g.open !== p.open || g.close !== p.close)) return false;
        return ordered(g.items, p.items, ctx);
      }
      if (p.t === "list") return ordered(g.items, sortedByValue(p.items, ctx), ctx);
      return false;
    }
    case "expr": {
      if (p.t === "expr") return scalarsEqual(g, p, ctx);
      if (p.t === "list") return unordered([g], p.items, ctx);
      return false;
    }
  }
  return false;
}
