/**
 * Tokeniser of the verifier's LaTeX dialect: numbers, single-letter symbols, Greek letters, function names,
 * operators (LaTeX commands and Unicode signs mapped to one spelling), `\text{}`-like groups kept raw, and
 * matrix environments.
 *
 * @module
 */

/** One token. */
export type Token =
  | { k: "num"; v: string }
  | { k: "sym"; v: string }
  | { k: "fn"; v: string }
  | { k: "cmd"; v: string }
  | { k: "op"; v: string }
  | { k: "text"; v: string; cmd: string }
  | { k: "begin"; v: string }
  | { k: "end"; v: string };

/** Functions written as commands (`\sin`) or plain words (`sin`). */
export const FUNCTIONS = new Set([
  "arcsin",
  "arccos",
  "arctan",
  "arcsec",
  "arccsc",
  "arccot",
  "sinh",
  "cosh",
  "tanh",
  "sin",
  "cos",
  "tan",
  "sec",
  "csc",
  "cot",
  "ln",
  "log",
  "lg",
  "exp",
  "gcd",
  "lcm",
  "min",
  "max",
  "det",
]);
const PLAIN_FUNCTIONS = [...FUNCTIONS].sort((a, b) => b.length - a.length);

const GREEK = new Set(
  ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi omicron rho " +
    "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega")
    .split(" "),
);

const COMMAND_OPS: Record<string, string> = {
  cdot: "*",
  times: "*",
  ast: "*",
  div: "/",
  le: "≤",
  leq: "≤",
  leqslant: "≤",
  leqq: "≤",
  ge: "≥",
  geq: "≥",
  geqslant: "≥",
  geqq: "≥",
  ne: "≠",
  neq: "≠",
  approx: "≈",
  simeq: "≈",
  in: "∈",
  cup: "∪",
  cap: "∩",
  setminus: "∖",
  pm: "±",
  mp: "∓",
  lt: "<",
  gt: ">",
  vert: "|",
  lvert: "|",
  rvert: "|",
  mid: "|",
  lfloor: "⌊",
  rfloor: "⌋",
  lceil: "⌈",
  rceil: "⌉",
  langle: "(",
  rangle: ")",
  prime: "'",
  colon: ":",
  dots: "…",
  to: "→",
  rightarrow: "→",
  implies: "→",
  Rightarrow: "→",
  wedge: "∧",
  land: "∧",
  vee: "∨",
  lor: "∨",
};
/** Accents and over/underlines: the lexer reads their argument as text, the parser as one symbol. */
export const DECORATORS: ReadonlySet<string> = new Set([
  "overline",
  "bar",
  "vec",
  "hat",
  "widehat",
  "overrightarrow",
  "tilde",
  "dot",
  "underline",
]);
const SKIPPED = new Set([
  "angle",
  "triangle",
  "measuredangle",
  "displaystyle",
  "limits",
  "quad",
  "qquad",
  "not",
]);
const TEXT_COMMANDS = new Set([
  "text",
  "textbf",
  "textit",
  "textnormal",
  "textrm",
  "mbox",
  "mathrm",
  "mathbf",
  "mathit",
  "mathsf",
  "mathcal",
  "mathbb",
  "boldsymbol",
  "operatorname",
  ...DECORATORS,
]);
const SYMBOL_COMMANDS: Record<string, string> = {
  pi: "pi",
  infty: "Infinity",
  infinity: "Infinity",
  emptyset: "∅",
};

const UNICODE_OPS: Record<string, string> = {
  "×": "*",
  "·": "*",
  "⋅": "*",
  "÷": "/",
  "−": "-",
  "–": "-",
  "≤": "≤",
  "≥": "≥",
  "≠": "≠",
  "≈": "≈",
  "∈": "∈",
  "∪": "∪",
  "∩": "∩",
  "±": "±",
  "∓": "∓",
  "…": "…",
  "°": "°",
  "→": "→",
  "∨": "∨",
  "∧": "∧",
  "⩽": "≤",
  "⩾": "≥",
};

/** Thrown for text the lexer or parser cannot read. */
export class ParseError extends Error {
  override name = "ParseError";
}

function groupAt(s: string, open: number): { content: string; end: number } {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "\\") {
      i++;
      continue;
    }
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return { content: s.slice(open + 1, i), end: i + 1 };
  }
  throw new ParseError("unbalanced braces");
}

/** Splits a normalised answer into tokens; throws {@linkcode ParseError} on unbalanced groups. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+(?![a-zA-Z\d]))?/.exec(s.slice(i, i + 400));
    if (num) {
      out.push({ k: "num", v: num[0] });
      i += num[0].length;
      continue;
    }
    if (c === "\\") {
      const name = /^[a-zA-Z]+/.exec(s.slice(i + 1, i + 40))?.[0];
      if (!name) {
        const next = s[i + 1] ?? "";
        if (next === "\\") {
          out.push({ k: "op", v: "\\\\" });
          // `\\frac` inside a matrix: a row break followed by a command.
          if (/[a-zA-Z]/.test(s[i + 2] ?? "")) {
            i += 1;
            continue;
          }
        } else if (next === "{" || next === "}") out.push({ k: "op", v: "\\" + next });
        else if (next === "|") out.push({ k: "op", v: "|" });
        else if (next === "%") out.push({ k: "op", v: "%" });
        i += 2;
        continue;
      }
      i += 1 + name.length;
      if (name === "begin" || name === "end") {
        while (s[i] === " ") i++;
        if (s[i] !== "{") throw new ParseError(`\\${name} without an environment name`);
        const g = groupAt(s, i);
        i = g.end;
        if (name === "begin" && g.content.trim() === "array") {
          while (s[i] === " ") i++;
          if (s[i] === "{") i = groupAt(s, i).end;
        }
        out.push({ k: name, v: g.content.trim() });
      } else if (TEXT_COMMANDS.has(name)) {
        while (s[i] === " ") i++;
        if (s[i] === "{") {
          const g = groupAt(s, i);
          out.push({ k: "text", v: g.content, cmd: name });
          i = g.end;
        } else {
          const one = /^[A-Za-z0-9]/.exec(s.slice(i, i + 1));
          if (!one) throw new ParseError(`\\${name} without an argument`);
          out.push({ k: "text", v: one[0], cmd: name });
          i++;
        }
      } else if (name in COMMAND_OPS) out.push({ k: "op", v: COMMAND_OPS[name] });
      else if (name in SYMBOL_COMMANDS) out.push({ k: "sym", v: SYMBOL_COMMANDS[name] });
      else if (FUNCTIONS.has(name)) out.push({ k: "fn", v: name });
      else if (GREEK.has(name)) out.push({ k: "sym", v: name });
      else if (!SKIPPED.has(name)) out.push({ k: "cmd", v: name });
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      const run = /^[A-Za-z]+/.exec(s.slice(i, i + 40))![0];
      const fn = PLAIN_FUNCTIONS.find((f) => run.startsWith(f));
      if (fn) {
        out.push({ k: "fn", v: fn });
        i += fn.length;
      } else if (run === "pi") {
        out.push({ k: "sym", v: "pi" });
        i += 2;
      } else if (run.startsWith("sqrt") || run.startsWith("frac")) {
        // `sqrt(2)`, `frac{1}{2}`: a command whose backslash was lost.
        out.push({ k: "cmd", v: run.slice(0, 4) });
        i += 4;
      } else {
        out.push({ k: "sym", v: c });
        i++;
      }
      continue;
    }
    const two = s.slice(i, i + 2);
    const twoMap: Record<string, string> = {
      "<=": "≤",
      "=<": "≤",
      ">=": "≥",
      "!=": "≠",
      "==": "=",
      "**": "^",
    };
    if (two in twoMap) {
      out.push({ k: "op", v: twoMap[two] });
      i += 2;
      continue;
    }
    if ("+-*/^_()[]{},;|!%=<>:&'".includes(c)) out.push({ k: "op", v: c });
    else if (c in UNICODE_OPS) out.push({ k: "op", v: UNICODE_OPS[c] });
    else if (c === "√") out.push({ k: "cmd", v: "sqrt" });
    else if (c === "π") out.push({ k: "sym", v: "pi" });
    else if (c === "∞") out.push({ k: "sym", v: "Infinity" });
    else throw new ParseError(`unexpected character ${JSON.stringify(c)}`);
    i++;
  }
  return out;
}
