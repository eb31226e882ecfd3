/**
 * Evaluation of the parser's mathjs trees without mathjs' `evaluate`: exactly (BigInt rationals) when a tree
 * is rational arithmetic, otherwise in complex floating point at a given assignment of the variables.
 * Unknown functions and subscripted names (`F_{n-1}`, `x_1`) evaluate to a fixed pseudo-random value of
 * their arguments, so equal trees agree and different ones almost surely do not.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import type { Budget } from "./budget.ts";
import * as Q from "./rational.ts";
import { literals } from "./safe_math.ts";

/** A complex number. */
export interface Complex {
  re: number;
  im: number;
}

/** Names that are constants rather than variables. */
export const CONSTANTS = new Set(["pi", "e", "i", "Infinity"]);

interface Op {
  fn: string;
  args: MathNode[];
}
interface Fn {
  fn: { name: string };
  args: MathNode[];
}

/** The exact value of a tree of rational arithmetic, or null when it is not one (or grows too big). */
export function evalExact(node: MathNode, budget: Budget): Q.Rational | null {
  budget.tick();
  switch (node.type) {
    case "ConstantNode": {
      const lit = literals.get(node);
      return lit === undefined ? null : Q.parseDecimal(lit);
    }
    case "OperatorNode": {
      const { fn, args } = node as unknown as Op;
      const a = evalExact(args[0], budget);
      if (a === null) return null;
      if (fn === "unaryMinus") return Q.rational(-a.num, a.den);
      if (fn === "unaryPlus") return a;
      const b = evalExact(args[1], budget);
      if (b === null) return null;
      switch (fn) {
        case "add":
          return Q.add(a, b);
        case "subtract":
          return Q.sub(a, b);
        case "multiply":
          return Q.mul(a, b);
        case "divide":
          return Q.div(a, b);
        case "pow":
          return Q.pow(a, b);
      }
      return null;
    }
    case "FunctionNode": {
      const { fn, args } = node as unknown as Fn;
      if (fn.name === "sqrt" && args.length === 1) {
        const a = evalExact(args[0], budget);
        if (a === null || a.num < 0n) return null;
        const rn = isqrt(a.num), rd = isqrt(a.den);
        return rn * rn === a.num && rd * rd === a.den ? Q.rational(rn, rd) : null;
      }
      return null;
    }
  }
  return null;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** True when a tree contains a decimal literal (`0.5`, `1e-3`), which makes comparison approximate. */
export function hasDecimal(node: MathNode): boolean {
  let found = false;
  node.traverse((n) => {
    if (n.type === "ConstantNode" && /[.eE]/.test(literals.get(n) ?? "")) found = true;
  });
  return found;
}

/** The free variables of a tree (symbols other than the constants `pi`, `e`, `i`, `Infinity`). */
export function freeVariables(node: MathNode, into: Set<string> = new Set()): Set<string> {
  node.traverse((n, _path, parent) => {
    if (n.type !== "SymbolNode") return;
    if (parent && parent.type === "FunctionNode" && (parent as unknown as Fn).fn === (n as unknown)) return;
    const name = (n as unknown as { name: string }).name;
    if (!CONSTANTS.has(name)) into.add(name);
  });
  return into;
}

/** True when a tree mentions infinity explicitly. */
export function mentionsInfinity(node: MathNode): boolean {
  let found = false;
  node.traverse((n) => {
    if (n.type === "SymbolNode" && (n as unknown as { name: string }).name === "Infinity") found = true;
  });
  return found;
}

const c = (re: number, im = 0): Complex => ({ re, im });
const NAN = c(NaN, NaN);

function cmul(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return c(a.re * b.re);
  return c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
function cdiv(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return b.re === 0 ? NAN : c(a.re / b.re);
  const d = b.re * b.re + b.im * b.im;
  if (d === 0) return NAN;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
function cexp(a: Complex): Complex {
  const m = Math.exp(a.re);
  return a.im === 0 ? c(m) : c(m * Math.cos(a.im), m * Math.sin(a.im));
}
function clog(a: Complex): Complex {
  if (a.im === 0 && a.re > 0) return c(Math.log(a.re));
  return c(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
}
function cpow(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) {
    if (a.re >= 0 || Number.isInteger(b.re)) return c(Math.pow(a.re, b.re));
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? c(0) : NAN;
  return cexp(cmul(b, clog(a)));
}
function csqrt(a: Complex): Complex {
  if (a.im === 0) return a.re >= 0 ? c(Math.sqrt(a.re)) : c(0, Math.sqrt(-a.re));
  return cpow(a, c(0.5));
}
function csin(a: Complex): Complex {
  return a.im === 0
    ? c(Math.sin(a.re))
    : c(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
}
function ccos(a: Complex): Complex {
  return a.im === 0
    ? c(Math.cos(a.re))
    : c(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
}
function real(f: (x: number) => number): (a: Complex) => Complex {
  return (a) => (a.im === 0 ? c(f(a.re)) : NAN);
}
function gamma(x: number): number {
  if (x > 171) return Infinity;
  if (Number.isInteger(x)) {
    if (x <= 0) return NaN;
    let r = 1;
    for (let k = 2; k < x; k++) r *= k;
    return r;
  }
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7;
  const p = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  x -= 1;
  let a = p[0];
  const t = x + g + 0.5;
  for (let k = 1; k < g + 2; k++) a += p[k] / (x + k);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}
function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b > 1e-9) [a, b] = [b, a % b];
  return a;
}

const UNARY: Record<string, (a: Complex) => Complex> = {
  sqrt: csqrt,
  abs: (a) => c(Math.hypot(a.re, a.im)),
  exp: cexp,
  ln: clog,
  log10: (a) => cdiv(clog(a), c(Math.LN10)),
  sin: csin,
  cos: ccos,
  tan: (a) => cdiv(csin(a), ccos(a)),
  sec: (a) => cdiv(c(1), ccos(a)),
  csc: (a) => cdiv(c(1), csin(a)),
  cot: (a) => cdiv(ccos(a), csin(a)),
  arcsin: real(Math.asin),
  arccos: real(Math.acos),
  arctan: real(Math.atan),
  arcsec: real((x) => Math.acos(1 / x)),
  arccsc: real((x) => Math.asin(1 / x)),
  arccot: real((x) => Math.atan(1 / x)),
  sinh: real(Math.sinh),
  cosh: real(Math.cosh),
  tanh: real(Math.tanh),
  floor: real(Math.floor),
  ceil: real(Math.ceil),
  factorial: real((x) => (x < 0 ? NaN : gamma(x + 1))),
};

/** A deterministic value in [0.5, 2.5) for an uninterpreted function at given arguments. */
function opaque(name: string, args: Complex[]): Complex {
  let h = 0x811c9dc5;
  const key = name + "|" + args.map((a) => `${a.re.toPrecision(9)},${a.im.toPrecision(9)}`).join("|");
  for (let k = 0; k < key.length; k++) h = Math.imul(h ^ key.charCodeAt(k), 0x01000193);
  return c(0.5 + 2 * ((h >>> 0) / 4294967296));
}

const MAX_TERMS = 10_000;
const PROBES = [0.37, 1.41, 2.83];

/**
 * `sum(body, k, lo, hi)` / `prod(...)`: summed exactly over integer bounds; with symbolic bounds, an opaque
 * value of the bounds and of the body at fixed probe points (equal bodies and bounds agree).
 */
function evalBig(name: string, args: MathNode[], scope: Map<string, Complex>, budget: Budget): Complex {
  const [body, index, loNode, hiNode] = args;
  const k = (index as unknown as { name: string }).name;
  const lo = evalComplex(loNode, scope, budget), hi = evalComplex(hiNode, scope, budget);
  const inner = new Map(scope);
  if (
    lo.im === 0 && hi.im === 0 && Number.isInteger(lo.re) && Number.isInteger(hi.re) &&
    hi.re - lo.re < MAX_TERMS
  ) {
    let acc = c(name === "sum" ? 0 : 1);
    for (let j = lo.re; j <= hi.re; j++) {
      inner.set(k, c(j));
      const v = evalComplex(body, inner, budget);
      acc = name === "sum" ? c(acc.re + v.re, acc.im + v.im) : cmul(acc, v);
    }
    return acc;
  }
  const probes = PROBES.map((x) => {
    inner.set(k, c(x));
    return evalComplex(body, inner, budget);
  });
  return opaque(name, [lo, hi, ...probes]);
}

/**
 * A negative real base to an exact exponent `p/q` with `q` odd is read as the real root (`(-8)^{1/3} = -2`,
 * as `\\sqrt[3]{-8}`), the convention of school mathematics; null for every other power.
 */
function realOddRoot(base: Complex, exponent: MathNode, budget: Budget): Complex | null {
  if (base.im !== 0 || !(base.re < 0)) return null;
  const q = evalExact(exponent, budget);
  if (q === null || q.den === 1n || q.den % 2n === 0n) return null;
  const r = Math.pow(-base.re, Number(q.num) / Number(q.den));
  return c(q.num % 2n === 0n ? r : -r);
}

/** Evaluates a tree in complex floating point; `scope` gives the variables' values (missing ones are NaN). */
export function evalComplex(node: MathNode, scope: Map<string, Complex>, budget: Budget): Complex {
  budget.tick();
  switch (node.type) {
    case "ConstantNode":
      return c((node as unknown as { value: number }).value);
    case "SymbolNode": {
      const name = (node as unknown as { name: string }).name;
      switch (name) {
        case "pi":
          return c(Math.PI);
        case "e":
          return c(Math.E);
        case "i":
          return c(0, 1);
        case "Infinity":
          return c(Infinity);
      }
      return scope.get(name) ?? NAN;
    }
    case "OperatorNode": {
      const { fn, args } = node as unknown as Op;
      const a = evalComplex(args[0], scope, budget);
      if (fn === "unaryMinus") return c(-a.re, -a.im);
      if (fn === "unaryPlus") return a;
      const b = evalComplex(args[1], scope, budget);
      switch (fn) {
        case "add":
          return c(a.re + b.re, a.im + b.im);
        case "subtract":
          return c(a.re - b.re, a.im - b.im);
        case "multiply":
          return cmul(a, b);
        case "divide":
          return cdiv(a, b);
        case "pow":
          return realOddRoot(a, args[1], budget) ?? cpow(a, b);
      }
      return NAN;
    }
    case "FunctionNode": {
      const { fn, args } = node as unknown as Fn;
      if (fn.name === "sum" || fn.name === "prod") return evalBig(fn.name, args, scope, budget);
      const vals = args.map((a) => evalComplex(a, scope, budget));
      const name = fn.name;
      if (vals.length === 1 && name in UNARY) return UNARY[name](vals[0]);
      const reals = vals.every((v) => v.im === 0) ? vals.map((v) => v.re) : null;
      switch (name) {
        case "log":
          return vals.length === 2 ? cdiv(clog(vals[0]), clog(vals[1])) : clog(vals[0]);
        case "nthRoot": {
          if (vals.length !== 2) return NAN;
          const [x, n] = vals;
          if (x.im === 0 && n.im === 0 && x.re < 0 && Number.isInteger(n.re) && n.re % 2 !== 0) {
            return c(-Math.pow(-x.re, 1 / n.re));
          }
          return cpow(x, cdiv(c(1), n));
        }
        case "binom":
          if (!reals || reals.length !== 2) return NAN;
          return c(gamma(reals[0] + 1) / (gamma(reals[1] + 1) * gamma(reals[0] - reals[1] + 1)));
        case "gcd":
          return reals ? c(reals.reduce(gcd)) : NAN;
        case "lcm":
          return reals ? c(reals.reduce((x, y) => Math.abs(x * y) / gcd(x, y))) : NAN;
        case "min":
          return reals ? c(Math.min(...reals)) : NAN;
        case "max":
          return reals ? c(Math.max(...reals)) : NAN;
      }
      return opaque(name, vals);
    }
  }
  return NAN;
}
