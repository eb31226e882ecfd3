/**
 * Equality of two scalar expressions: exact for rational arithmetic, relative tolerance when a decimal is
 * involved, and for expressions with variables evaluation at seeded random points (mathjs `simplify` of
 * the difference decides only when too few points can be evaluated).
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { createRng } from "../random/mod.ts";
import type { Budget } from "./budget.ts";
import {
  type Complex,
  evalComplex,
  evalExact,
  freeVariables,
  hasDecimal,
  mentionsInfinity,
} from "./evaluate.ts";
import * as Q from "./rational.ts";
import { binaryNode, literals, simplifyNode } from "./safe_math.ts";
import { close, decimalsAgree } from "./tolerance.ts";

/** Settings the comparators share during one verification. */
export interface CompareContext {
  budget: Budget;
  relTol: number;
  decimalPlaces: number | null;
  relationAsSet: boolean;
  seed: number;
}

const EXACT_TOL = 1e-9;
/** One scale per random point: most points near 1, a few far out (so `floor`, `abs` and powers differ). */
const POINT_SCALES = [1, 1, 1, 1, 1, 6, 30, 0.2];
const MIN_VALID_POINTS = 3;
const SIMPLIFY_MAX_NODES = 60;

function finite(a: Complex): boolean {
  return Number.isFinite(a.re) && Number.isFinite(a.im);
}

/** A decimal literal written by the response (`1.414`), with its count of decimals and significant digits. */
function decimalLiteral(node: MathNode): { value: number; decimals: number; digits: number } | null {
  let sign = 1;
  if (node.type === "OperatorNode" && (node as unknown as { fn: string }).fn === "unaryMinus") {
    sign = -1;
    node = (node as unknown as { args: MathNode[] }).args[0];
  }
  if (node.type !== "ConstantNode") return null;
  const lit = literals.get(node) ?? "";
  const m = /^(\d*)\.(\d+)$/.exec(lit);
  if (!m) return null;
  const digits = (m[1] + m[2]).replace(/^0+/, "").length;
  return { value: sign * Number(lit), decimals: m[2].length, digits };
}

function constantsEqual(g: MathNode, p: MathNode, ctx: CompareContext): boolean {
  const dec = hasDecimal(g) || hasDecimal(p);
  const ge = evalExact(g, ctx.budget);
  const pe = ge === null ? null : evalExact(p, ctx.budget);
  if (ge !== null && pe !== null && !dec) return Q.equals(ge, pe);
  const empty = new Map<string, Complex>();
  const gv = ge !== null ? { re: Q.toNumber(ge), im: 0 } : evalComplex(g, empty, ctx.budget);
  const pv = pe !== null ? { re: Q.toNumber(pe), im: 0 } : evalComplex(p, empty, ctx.budget);
  if (!finite(gv) || !finite(pv)) {
    // Only an explicit infinity may equal infinity; an overflow (10^10^10) compares as nothing.
    if (!mentionsInfinity(g) || !mentionsInfinity(p)) return false;
    return gv.re === pv.re && (gv.im === pv.im || (Number.isNaN(gv.im) && Number.isNaN(pv.im)));
  }
  if (dec && ctx.decimalPlaces !== null) return decimalsAgree(gv, pv, ctx);
  if (dec ? decimalsAgree(gv, pv, ctx) : close(gv, pv, EXACT_TOL)) return true;
  // A response that rounds or truncates an exact irrational/fractional gold to ≥ 4 significant digits.
  const lit = decimalLiteral(p);
  if (lit && !hasDecimal(g) && lit.digits >= 4 && gv.im === 0) {
    const f = 10 ** lit.decimals;
    const near = (x: number) => Math.abs(x - lit.value) <= 1e-9 * Math.max(1, Math.abs(x));
    return near(Math.round(gv.re * f) / f) || near(Math.trunc(gv.re * f) / f);
  }
  return false;
}

/** Random positive values for the variables (positive keeps square roots and logarithms real). */
function randomScopes(names: string[], seed: number): Map<string, Complex>[] {
  const rng = createRng(seed);
  const scopes: Map<string, Complex>[] = [];
  for (const scale of POINT_SCALES) {
    const scope = new Map<string, Complex>();
    for (const n of names) scope.set(n, { re: scale * (0.3 + 2.7 * rng.next()), im: 0 });
    scopes.push(scope);
  }
  return scopes;
}

function nodeCount(node: MathNode): number {
  let n = 0;
  node.traverse(() => n++);
  return n;
}

/** True when two scalar expression trees denote the same value (or function of the same variables). */
export function expressionsEqual(g: MathNode, p: MathNode, ctx: CompareContext): boolean {
  const vars = [...freeVariables(p, freeVariables(g))].sort();
  if (vars.length === 0) return constantsEqual(g, p, ctx);
  const tol = hasDecimal(g) || hasDecimal(p) ? ctx.relTol : 1e-8;
  let valid = 0;
  for (const scope of randomScopes(vars, ctx.seed)) {
    ctx.budget.tick();
    const a = evalComplex(g, scope, ctx.budget);
    const b = evalComplex(p, scope, ctx.budget);
    const fa = finite(a), fb = finite(b);
    if (fa !== fb) return false;
    if (!fa) continue;
    if (!close(a, b, tol)) return false;
    valid++;
  }
  if (valid >= MIN_VALID_POINTS) return true;
  ctx.budget.check();
  if (nodeCount(g) + nodeCount(p) > SIMPLIFY_MAX_NODES) return false;
  const diff = simplifyNode(binaryNode("-", g, p));
  return diff !== null && diff.type === "ConstantNode" && (diff as unknown as { value: number }).value === 0;
}

/** True when `a = 0` and `b = 0` are the same equation: `a / b` is one nonzero constant at random points. */
export function proportional(a: MathNode, b: MathNode, ctx: CompareContext): boolean {
  const vars = [...freeVariables(b, freeVariables(a))].sort();
  if (vars.length === 0) return false;
  let ratio: Complex | null = null;
  let valid = 0;
  for (const scope of randomScopes(vars, ctx.seed)) {
    ctx.budget.tick();
    const x = evalComplex(a, scope, ctx.budget);
    const y = evalComplex(b, scope, ctx.budget);
    if (!finite(x) || !finite(y) || Math.hypot(y.re, y.im) < 1e-12) continue;
    const d = y.re * y.re + y.im * y.im;
    const r = { re: (x.re * y.re + x.im * y.im) / d, im: (x.im * y.re - x.re * y.im) / d };
    if (Math.hypot(r.re, r.im) < 1e-12) return false;
    if (ratio === null) ratio = r;
    else if (!close(ratio, r, 1e-8)) return false;
    valid++;
  }
  return valid >= MIN_VALID_POINTS;
}

const ROOT_GRID = 4000;
const ROOT_SPAN = 1000;

/** Real roots of a one-variable function on [-ROOT_SPAN, ROOT_SPAN], found by sign changes and bisection. */
function realRoots(f: MathNode, name: string, ctx: CompareContext): number[] | null {
  const scope = new Map<string, Complex>();
  const at = (x: number): number => {
    scope.set(name, { re: x, im: 0 });
    const v = evalComplex(f, scope, ctx.budget);
    return Math.abs(v.im) < 1e-12 ? v.re : NaN;
  };
  const roots: number[] = [];
  // A grid dense near zero and sparse far out: x = ROOT_SPAN * t^3 for t uniform in [-1, 1].
  let px = -ROOT_SPAN, pv = at(px);
  for (let k = 1; k <= ROOT_GRID; k++) {
    const t = -1 + (2 * k) / ROOT_GRID, x = ROOT_SPAN * t * t * t, v = at(x);
    if (v === 0) roots.push(x);
    else if (Number.isFinite(pv) && Number.isFinite(v) && pv !== 0 && Math.sign(pv) !== Math.sign(v)) {
      let lo = px, hi = x, flo = pv;
      for (let it = 0; it < 80; it++) {
        const mid = (lo + hi) / 2, fm = at(mid);
        if (!Number.isFinite(fm)) break;
        if (Math.sign(fm) === Math.sign(flo)) [lo, flo] = [mid, fm];
        else hi = mid;
      }
      const r = (lo + hi) / 2;
      // A sign change across a pole is not a root.
      if (Math.abs(at(r)) < 1e-6 * Math.max(1, Math.abs(pv), Math.abs(v))) roots.push(r);
    }
    [px, pv] = [x, v];
    if (roots.length > 50) return null;
  }
  return roots;
}

/**
 * True when `a = 0` and `b = 0` in one variable have the same real solutions (at least one), as for
 * `2w + 50/w = 25` and `w(12.5 - w) = 25`.
 */
export function sameRealRoots(a: MathNode, b: MathNode, ctx: CompareContext): boolean {
  const vars = [...freeVariables(b, freeVariables(a))];
  if (vars.length !== 1) return false;
  const ra = realRoots(a, vars[0], ctx);
  if (ra === null || ra.length === 0) return false;
  const rb = realRoots(b, vars[0], ctx);
  if (rb === null || ra.length !== rb.length) return false;
  return ra.every((r, k) => Math.abs(r - rb[k]) <= 1e-6 * Math.max(1, Math.abs(r)));
}

/** A real number for a constant tree (used to order set members), or null. */
export function realValue(node: MathNode, ctx: CompareContext): number | null {
  if (freeVariables(node).size > 0) return null;
  const v = evalComplex(node, new Map(), ctx.budget);
  return v.im === 0 && !Number.isNaN(v.re) ? v.re : null;
}
