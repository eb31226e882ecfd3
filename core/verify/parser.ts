/**
 * Our LaTeX parser: turns a normalised answer into a {@linkcode Value} whose scalars are mathjs expression
 * trees built node by node (mathjs reads no LaTeX, and it is never handed a string). Handles implicit
 * multiplication, `\frac12`/`\sqrt3` shorthands, functions with and without parentheses (`\sin^2 x`),
 * subscripts, `\pm`, percentages, degrees, tuples, intervals, sets, unions, matrices and relation chains.
 *
 * @module
 */

import type { MathNode } from "mathjs";
import { type Budget, LimitError, LIMITS } from "./budget.ts";
import { DECORATORS, FUNCTIONS, ParseError, type Token, tokenize } from "./lexer.ts";
import { binaryNode, constantNode, functionNode, negateNode, type OPS, symbolNode } from "./safe_math.ts";
import { isInequality, type RelOp, type Value } from "./value.ts";

export { ParseError } from "./lexer.ts";

const REL_OPS = new Set(["=", "<", ">", "≤", "≥", "≠", "∈", "≈"]);
const PLAIN_TEXT = new Set(["text", "textbf", "textit", "textnormal", "textrm", "mbox", "mathrm"]);
const MATRIX_ENVS = new Set([
  "pmatrix",
  "bmatrix",
  "Bmatrix",
  "vmatrix",
  "Vmatrix",
  "matrix",
  "smallmatrix",
  "array",
]);
/** Separators of list items; `∨` and `∧` ("or", "and") also join inequalities into one set. */
const SEPARATORS = new Set([",", ";", "∨", "∧"]);
const TRIG = new Set(["sin", "cos", "tan", "sec", "csc", "cot"]);
const ATOM_OPS = new Set(["(", "[", "{", "\\{", "⌊", "⌈"]);

/** Parses a normalised answer; throws {@linkcode ParseError} or a budget error when it cannot. */
export function parseAnswer(text: string, budget: Budget): Value {
  if (text.length > LIMITS.maxAnswerChars) {
    throw new LimitError(`answer longer than ${LIMITS.maxAnswerChars}`);
  }
  const time = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (time && Number(time[2]) < 60) {
    const ratio = time[3] === undefined
      ? binaryNode("/", constantNode(Number(time[1]), time[1]), constantNode(Number(time[2]), time[2]))
      : null;
    return {
      t: "time",
      seconds: Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3] ?? 0),
      ratio,
    };
  }
  const parser = new Parser(tokenize(text), budget);
  const value = parser.top();
  return value;
}

function expr(node: MathNode, pct = false): Value {
  return { t: "expr", node, pct };
}

function containsPm(node: MathNode): boolean {
  let found = false;
  node.traverse((n) => {
    if (n.type === "FunctionNode" && (n as unknown as { fn: { name: string } }).fn.name === "pm") {
      found = true;
    }
  });
  return found;
}

/** Replaces the first `pm(a, b)` / `pm(b)` in a tree by `a + b` and `a - b`. */
function expandOnce(node: MathNode): MathNode[] {
  let done = false;
  const plus = node.transform((n) => {
    if (done || n.type !== "FunctionNode") return n;
    const f = n as unknown as { fn: { name: string }; args: MathNode[] };
    if (f.fn.name !== "pm") return n;
    done = true;
    return f.args.length === 2 ? binaryNode("+", f.args[0], f.args[1]) : f.args[0];
  });
  done = false;
  const minus = node.transform((n) => {
    if (done || n.type !== "FunctionNode") return n;
    const f = n as unknown as { fn: { name: string }; args: MathNode[] };
    if (f.fn.name !== "pm") return n;
    done = true;
    return f.args.length === 2 ? binaryNode("-", f.args[0], f.args[1]) : negateNode(f.args[0]);
  });
  return [plus, minus];
}

/** Expands every `\pm` into the set of its sign choices (at most 16 members). */
export function expandPm(v: Value): Value {
  switch (v.t) {
    case "expr": {
      if (!containsPm(v.node)) return v;
      let nodes = [v.node];
      for (let round = 0; round < 4 && nodes.some(containsPm); round++) nodes = nodes.flatMap(expandOnce);
      if (nodes.some(containsPm)) throw new LimitError("too many \\pm");
      return { t: "list", items: nodes.map((n) => expr(n, v.pct)), pm: true };
    }
    case "list":
      return { t: "list", items: v.items.map(expandPm) };
    case "tuple":
      return { ...v, items: v.items.map(expandPm) };
    case "rel":
      return { ...v, terms: v.terms.map(expandPm) };
    default:
      return v;
  }
}

class Parser {
  #toks: Token[];
  #i = 0;
  #budget: Budget;
  #depth = 0;
  #absDepth = 0;
  #trig = 0;
  #pct = false;
  #deg = false;
  /** Brace groups being read: `\\pm` inside one is expanded by the item around it, not there. */
  #braces = 0;

  constructor(toks: Token[], budget: Budget) {
    this.#toks = toks.filter((t) => !(t.k === "text" && t.v.trim() === ""));
    this.#budget = budget;
  }

  top(): Value {
    if (this.#toks.length === 0) throw new ParseError("empty answer");
    // `1, 2 \\pm \\sqrt{3}`: the members of a `\\pm` expansion are members of the list around it.
    const items = this.#items(new Set()).flatMap((v) => v.t === "list" && v.pm ? v.items : [v]);
    if (this.#i < this.#toks.length) throw new ParseError(`unexpected ${this.#peek()?.v}`);
    return items.length === 1 ? items[0] : { t: "list", items };
  }

  #peek(offset = 0): Token | undefined {
    return this.#toks[this.#i + offset];
  }

  #isOp(v: string, offset = 0): boolean {
    const t = this.#toks[this.#i + offset];
    return t !== undefined && t.k === "op" && t.v === v;
  }

  #expectOp(v: string): void {
    if (!this.#isOp(v)) throw new ParseError(`expected ${v}`);
    this.#i++;
  }

  #enter(): void {
    if (++this.#depth > LIMITS.maxDepth) throw new LimitError(`nesting deeper than ${LIMITS.maxDepth}`);
    this.#budget.tick();
  }

  #node<T>(n: T): T {
    this.#budget.node();
    return n;
  }

  #items(closers: Set<string>): Value[] {
    const items: Value[] = [];
    const joins = new Set<string>();
    while (true) {
      const t = this.#peek();
      if (t === undefined || (t.k === "op" && closers.has(t.v))) break;
      if (t.k === "op" && SEPARATORS.has(t.v)) {
        joins.add(t.v);
        this.#i++;
        continue;
      }
      items.push(this.#item());
      const n = this.#peek();
      if (n === undefined || (n.k === "op" && closers.has(n.v))) break;
      if (n.k === "op" && SEPARATORS.has(n.v)) continue;
      throw new ParseError(`unexpected ${n.v}`);
    }
    // Inequalities joined by "or"/"and" describe one set; anything else joined so is a plain list.
    if ((joins.has("∨") || joins.has("∧")) && items.length > 1 && items.every(isInequality)) {
      return [{ t: "logic", op: joins.has("∨") ? "or" : "and", items }];
    }
    return items;
  }

  #item(): Value {
    this.#enter();
    const savedPct = this.#pct;
    this.#pct = false;
    const t = this.#peek();
    const after = this.#peek(1);
    const savedDeg = this.#deg;
    this.#deg = false;
    let result: Value;
    if (
      t?.k === "text" && PLAIN_TEXT.has(t.cmd) && /[A-Za-z]{2}|[A-Za-z]\W|\W[A-Za-z]/.test(t.v.trim()) &&
      !FUNCTIONS.has(t.v.trim()) &&
      (after === undefined || (after.k === "op" && /^[,;)\]}&]$|^\\\\$/.test(after.v)))
    ) {
      this.#i++;
      result = { t: "text", text: t.v.trim() };
    } else {
      result = this.#relation();
    }
    this.#pct = savedPct;
    this.#deg = savedDeg;
    this.#depth--;
    return this.#braces > 0 ? result : expandPm(result);
  }

  #relation(): Value {
    const terms = [this.#setExpr()];
    const ops: string[] = [];
    while (this.#peek()?.k === "op" && REL_OPS.has(this.#peek()!.v)) {
      ops.push(this.#toks[this.#i++].v);
      terms.push(this.#setExpr());
    }
    if (this.#pct && terms.length === 1 && terms[0].t === "expr") return { ...terms[0], pct: true };
    if (this.#deg && terms.length === 1 && terms[0].t === "expr") return { ...terms[0], deg: true };
    let lo = 0, hi = terms.length - 1;
    const approx = ops.indexOf("≈");
    if (approx >= 0) {
      const t0 = terms[0];
      if (approx === 0 && t0.t === "expr" && t0.node.type === "SymbolNode") {
        lo = 1;
        const next = ops.indexOf("≈", 1);
        hi = next >= 0 ? next : terms.length - 1;
      } else hi = approx;
    }
    if (hi === lo) return terms[lo];
    return { t: "rel", terms: terms.slice(lo, hi + 1), ops: ops.slice(lo, hi) as RelOp[] };
  }

  #setExpr(): Value {
    let a = this.#ratio();
    while (this.#peek()?.k === "op" && ["∪", "∩", "∖"].includes(this.#peek()!.v)) {
      const op = this.#toks[this.#i++].v;
      const b = this.#ratio();
      if (op !== "∪") throw new ParseError(`set operator ${op} is not supported`);
      a = union(a, b);
    }
    return a;
  }

  #ratio(): Value {
    const a = this.#sum();
    if (!this.#isOp(":")) return a;
    this.#i++;
    const b = this.#sum();
    return expr(this.#node(binaryNode("/", this.#expr(a), this.#expr(b))));
  }

  #expr(v: Value): MathNode {
    if (v.t !== "expr") throw new ParseError(`a ${v.t} cannot be used in arithmetic`);
    return v.node;
  }

  #sum(): Value {
    let a: Value;
    if (this.#isOp("±") || this.#isOp("∓")) {
      this.#i++;
      a = expr(this.#node(functionNode("pm", [this.#expr(this.#term())])));
    } else a = this.#term();
    while (this.#peek()?.k === "op" && ["+", "-", "±", "∓"].includes(this.#peek()!.v)) {
      const op = this.#toks[this.#i++].v;
      const b = this.#term();
      if (op === "±" || op === "∓") a = expr(this.#node(functionNode("pm", [this.#expr(a), this.#expr(b)])));
      else a = this.#combine(op as "+" | "-", a, b);
    }
    return a;
  }

  #combine(op: keyof typeof OPS, a: Value, b: Value): Value {
    if (a.t === "expr" && b.t === "expr") return expr(this.#node(binaryNode(op, a.node, b.node)));
    if (a.t === "matrix" && b.t === "matrix") {
      if (op === "+" || op === "-") {
        if (a.rows.length !== b.rows.length || a.rows.some((r, i) => r.length !== b.rows[i].length)) {
          throw new ParseError("matrix sizes differ");
        }
        return {
          t: "matrix",
          rows: a.rows.map((r, i) => r.map((c, j) => this.#combine(op, c, b.rows[i][j]))),
        };
      }
      if (op === "*") {
        const inner = a.rows[0].length;
        if (b.rows.length !== inner) throw new ParseError("matrix sizes do not match for a product");
        return {
          t: "matrix",
          rows: a.rows.map((r) =>
            b.rows[0].map((_c, j) => {
              let acc = this.#combine("*", r[0], b.rows[0][j]);
              for (let k = 1; k < inner; k++) {
                acc = this.#combine("+", acc, this.#combine("*", r[k], b.rows[k][j]));
              }
              return acc;
            })
          ),
        };
      }
    }
    if (op === "*" && a.t === "expr" && b.t === "matrix") {
      return { t: "matrix", rows: b.rows.map((r) => r.map((c) => this.#combine("*", a, c))) };
    }
    throw new ParseError(`cannot apply ${op} to ${a.t} and ${b.t}`);
  }

  #startsAtom(): boolean {
    const t = this.#peek();
    if (t === undefined) return false;
    if (t.k === "op") return ATOM_OPS.has(t.v) || (t.v === "|" && this.#absDepth === 0);
    if (t.k === "end") return false;
    return true;
  }

  #term(): Value {
    let a = this.#factor();
    while (true) {
      if (this.#isOp("*") || this.#isOp("/")) {
        const op = this.#toks[this.#i++].v as "*" | "/";
        a = this.#combine(op, a, this.#factor());
      } else if (this.#startsAtom()) {
        const b = this.#factor();
        // `t(0,4]`: a letter written before an interval names its variable.
        if (a.t === "expr" && a.node.type === "SymbolNode" && b.t === "tuple" && b.items.length === 2) {
          a = { t: "rel", terms: [a, b], ops: ["∈"] };
        } else a = this.#combine("*", a, b);
      } else return a;
    }
  }

  #factor(): Value {
    if (this.#isOp("-")) {
      this.#i++;
      const v = this.#factor();
      if (v.t === "matrix") return this.#combine("*", expr(constantNode(-1, "1")), v);
      return expr(this.#node(negateNode(this.#expr(v))));
    }
    if (this.#isOp("+")) {
      this.#i++;
      return this.#factor();
    }
    return this.#power();
  }

  #power(): Value {
    const base = this.#postfix();
    if (!this.#isOp("^")) return base;
    this.#i++;
    const e = this.#exponent();
    const v = expr(this.#node(binaryNode("^", this.#expr(base), this.#expr(e))));
    return this.#postfixOps(v);
  }

  #exponent(): Value {
    if (this.#isOp("{")) return this.#braced();
    if (this.#isOp("-")) {
      this.#i++;
      return expr(this.#node(negateNode(this.#expr(this.#exponent()))));
    }
    if (this.#isOp("+")) {
      this.#i++;
      return this.#exponent();
    }
    return this.#power();
  }

  #braced(): Value {
    this.#expectOp("{");
    this.#enter();
    this.#braces++;
    const items = this.#items(new Set(["}"]));
    this.#braces--;
    this.#expectOp("}");
    this.#depth--;
    if (items.length !== 1) throw new ParseError("expected one expression in braces");
    return items[0];
  }

  #postfix(): Value {
    return this.#postfixOps(this.#atom());
  }

  #postfixOps(v: Value): Value {
    while (true) {
      if (this.#isOp("!")) {
        this.#i++;
        v = expr(this.#node(functionNode("factorial", [this.#expr(v)])));
      } else if (this.#isOp("%")) {
        this.#i++;
        this.#pct = true;
        v = expr(this.#node(binaryNode("/", this.#expr(v), constantNode(100, "100"))));
      } else if (this.#isOp("°")) {
        this.#i++;
        if (this.#trig > 0) {
          const deg = binaryNode("/", symbolNode("pi"), constantNode(180, "180"));
          v = expr(this.#node(binaryNode("*", this.#expr(v), deg)));
        } else this.#deg = true;
      } else if (this.#isOp("'")) {
        this.#i++;
        v = expr(this.#node(functionNode("prime", [this.#expr(v)])));
      } else if (this.#isOp("_")) {
        this.#i++;
        const sub = this.#subscript();
        const base = this.#expr(v);
        const name = base.type === "SymbolNode" ? (base as unknown as { name: string }).name : "sub";
        const args = base.type === "SymbolNode" ? [sub] : [base, sub];
        v = expr(this.#node(functionNode(`${name}_`, args)));
      } else return v;
    }
  }

  /** A subscript: parsed when it is an expression, otherwise (`_{\\max}`, `_{\\text{red}}`) used as a name. */
  #subscript(): MathNode {
    if (!this.#isOp("{")) return this.#expr(this.#singleArg());
    let depth = 0, end = this.#i;
    for (; end < this.#toks.length; end++) {
      const t = this.#toks[end];
      if (t.k === "op" && t.v === "{") depth++;
      else if (t.k === "op" && t.v === "}" && --depth === 0) break;
    }
    if (end >= this.#toks.length) throw new ParseError("unclosed subscript");
    const inner = this.#toks.slice(this.#i + 1, end);
    this.#i = end + 1;
    try {
      const v = new Parser(inner, this.#budget).top();
      if (v.t === "expr") return v.node;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    return this.#node(symbolNode(inner.map((t) => t.v).join("").replace(/[^A-Za-z0-9]/g, "") || "_"));
  }

  /** A LaTeX argument: a braced group or a single token (`\frac12` reads the digits one at a time). */
  #singleArg(): Value {
    if (this.#isOp("{")) return this.#braced();
    const t = this.#peek();
    if (t?.k === "num" && /^\d\d/.test(t.v)) {
      this.#toks[this.#i] = { k: "num", v: t.v.slice(1) };
      return expr(this.#node(constantNode(Number(t.v[0]), t.v[0])));
    }
    return this.#atom();
  }

  #atom(): Value {
    const t = this.#peek();
    if (t === undefined) throw new ParseError("unexpected end of answer");
    this.#enter();
    try {
      this.#i++;
      switch (t.k) {
        case "num":
          return expr(this.#node(constantNode(Number(t.v), t.v)));
        case "sym":
          return expr(this.#node(symbolNode(t.v)));
        case "fn":
          return this.#func(t.v);
        case "cmd":
          return this.#command(t.v);
        case "text":
          return this.#text(t.v, t.cmd);
        case "begin":
          return this.#matrix(t.v);
        case "end":
          throw new ParseError(`unexpected \\end{${t.v}}`);
        case "op":
          return this.#bracket(t.v);
      }
    } finally {
      this.#depth--;
    }
  }

  #bracket(open: string): Value {
    switch (open) {
      case "(":
      case "[": {
        const items = this.#items(new Set([")", "]"]));
        const close = this.#peek();
        if (close === undefined) throw new ParseError(`unclosed ${open}`);
        this.#i++;
        if (items.length === 0) throw new ParseError("empty brackets");
        if (items.length === 1) {
          if ((open === "(") !== (close.v === ")")) throw new ParseError("mismatched brackets");
          return items[0];
        }
        return { t: "tuple", items, open: open as "(" | "[", close: close.v as ")" | "]" };
      }
      case "{": {
        const items = this.#items(new Set(["}"]));
        this.#expectOp("}");
        if (items.length === 1) return items[0];
        return { t: "list", items };
      }
      case "\\{": {
        const items = this.#items(new Set(["\\}"]));
        this.#expectOp("\\}");
        return { t: "list", items };
      }
      case "|": {
        this.#absDepth++;
        const inner = this.#sum();
        this.#absDepth--;
        this.#expectOp("|");
        return expr(this.#node(functionNode("abs", [this.#expr(inner)])));
      }
      case "⌊":
      case "⌈": {
        const inner = this.#sum();
        this.#expectOp(open === "⌊" ? "⌋" : "⌉");
        return expr(this.#node(functionNode(open === "⌊" ? "floor" : "ceil", [this.#expr(inner)])));
      }
      case "…":
        return { t: "dots" };
      default:
        throw new ParseError(`unexpected ${open}`);
    }
  }

  #func(name: string): Value {
    let power: Value | null = null;
    let base: Value | null = null;
    for (let k = 0; k < 2; k++) {
      if (this.#isOp("^") && power === null) {
        this.#i++;
        power = this.#exponent();
      } else if (this.#isOp("_") && base === null) {
        this.#i++;
        base = this.#singleArg();
      }
    }
    let fname = name === "lg" ? "log10" : name;
    const inverse = power?.t === "expr" && power.node.type === "OperatorNode" &&
      (power.node as unknown as { fn: string }).fn === "unaryMinus" &&
      (power.node as unknown as { args: MathNode[] }).args[0].type === "ConstantNode" &&
      (power.node as unknown as { args: { value: number }[] }).args[0].value === 1;
    if (inverse && TRIG.has(name)) {
      fname = "arc" + name;
      power = null;
    }
    const trig = TRIG.has(name) ? 1 : 0;
    this.#trig += trig;
    let args: MathNode[];
    if (this.#isOp("(")) {
      this.#i++;
      const items = this.#items(new Set([")"]));
      this.#expectOp(")");
      if (items.length === 0) throw new ParseError(`${name} without an argument`);
      args = items.map((v) => this.#expr(v));
    } else {
      let a = this.#power();
      while (this.#peek()?.k === "num" || this.#peek()?.k === "sym") a = this.#combine("*", a, this.#power());
      args = [this.#expr(a)];
    }
    this.#trig -= trig;
    if (base !== null) {
      if (fname !== "log") throw new ParseError(`${name} with a subscript`);
      args = [args[0], this.#expr(base)];
    }
    let node = this.#node(functionNode(fname, args));
    if (power !== null) node = this.#node(binaryNode("^", node, this.#expr(power)));
    return expr(node);
  }

  #command(name: string): Value {
    switch (name) {
      case "frac": {
        const a = this.#singleArg(), b = this.#singleArg();
        return expr(this.#node(binaryNode("/", this.#expr(a), this.#expr(b))));
      }
      case "binom":
      case "dbinom":
      case "tbinom": {
        const a = this.#singleArg(), b = this.#singleArg();
        return expr(this.#node(functionNode("binom", [this.#expr(a), this.#expr(b)])));
      }
      case "sqrt": {
        let index: Value | null = null;
        if (this.#isOp("[")) {
          this.#i++;
          index = this.#sum();
          this.#expectOp("]");
        }
        const arg = this.#singleArg();
        if (index === null) return expr(this.#node(functionNode("sqrt", [this.#expr(arg)])));
        return expr(this.#node(functionNode("nthRoot", [this.#expr(arg), this.#expr(index)])));
      }
      case "boxed":
      case "fbox":
        return this.#braced();
      case "sum":
      case "prod":
        return this.#bigOperator(name);
      default:
        return expr(this.#node(symbolNode(name)));
    }
  }

  /** `\sum_{k=a}^{b} body` / `\prod`: the body is the product that follows (up to the next + or -). */
  #bigOperator(name: string): Value {
    this.#expectOp("_");
    const bound = this.#singleArg();
    if (bound.t !== "rel" || bound.ops.length !== 1 || bound.ops[0] !== "=") {
      throw new ParseError(`\\${name} needs a lower bound k=a`);
    }
    const [index, lo] = bound.terms.map((v) => this.#expr(v));
    if (index.type !== "SymbolNode") throw new ParseError(`\\${name} index must be a letter`);
    this.#expectOp("^");
    const hi = this.#expr(this.#singleArg());
    const body = this.#expr(this.#term());
    return expr(this.#node(functionNode(name, [body, index, lo, hi])));
  }

  #text(content: string, cmd: string): Value {
    const word = content.replace(/[\s~]+/g, "");
    if (DECORATORS.has(cmd)) return expr(this.#node(symbolNode(word.replace(/[^A-Za-z0-9]/g, "") || "_")));
    if (FUNCTIONS.has(word)) return this.#func(word);
    if (/^[A-Za-z]+$/.test(word)) return expr(this.#node(symbolNode(word)));
    if (/^[A-Za-z0-9.+\-*/^()]+$/.test(word)) {
      this.#toks.splice(this.#i, 0, ...tokenize(word), { k: "op", v: ")" });
      return this.#bracket("(");
    }
    throw new ParseError(`text inside an expression: ${content}`);
  }

  #matrix(env: string): Value {
    if (!MATRIX_ENVS.has(env)) throw new ParseError(`environment ${env} is not supported`);
    const rows: Value[][] = [[]];
    while (true) {
      const t = this.#peek();
      if (t === undefined) throw new ParseError(`unclosed ${env}`);
      if (t.k === "end") {
        this.#i++;
        break;
      }
      if (t.k === "op" && (t.v === "&" || t.v === "\\\\")) {
        this.#i++;
        if (t.v === "\\\\") rows.push([]);
        continue;
      }
      rows[rows.length - 1].push(this.#item());
      const n = this.#peek();
      if (n !== undefined && !(n.k === "end" || (n.k === "op" && (n.v === "&" || n.v === "\\\\")))) {
        throw new ParseError(`unexpected ${n.v} in a matrix`);
      }
    }
    while (rows.length > 0 && rows[rows.length - 1].length === 0) rows.pop();
    if (rows.length === 0 || rows.some((r) => r.length !== rows[0].length)) {
      throw new ParseError("ragged matrix");
    }
    return { t: "matrix", rows };
  }
}

function union(a: Value, b: Value): Value {
  // `{1} \cup {1,4}`: a one-member brace group reads as an expression; next to a set it is a set.
  if (a.t === "expr" && b.t === "list") a = { t: "list", items: [a] };
  if (b.t === "expr" && a.t === "list") b = { t: "list", items: [b] };
  if (a.t === "list" && b.t === "list") return { t: "list", items: [...a.items, ...b.items] };
  const parts = [...(a.t === "union" ? a.parts : [a]), ...(b.t === "union" ? b.parts : [b])];
  for (const p of parts) {
    if (p.t !== "tuple" && p.t !== "list") throw new ParseError(`a ${p.t} in a union`);
  }
  return { t: "union", parts };
}
