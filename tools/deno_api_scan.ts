/**
 * Finds uses of the `Deno` global in TypeScript source, ignoring comments and string contents, so that `core/`
 * can be held to "no runtime API" without a type checker.
 *
 * @module
 */

/** One use of the `Deno` global: 1-based line and the member accessed (`""` when none, e.g. `typeof Deno`). */
export interface DenoUse {
  line: number;
  member: string;
}

const IDENT = /[A-Za-z0-9_$]/;

/**
 * Scans `source` once, left to right (linear time), and returns every `Deno` identifier that is code: not inside a
 * comment, a string or the text of a template literal, and not a property name such as `x.Deno`.
 */
export function findDenoUses(source: string): DenoUse[] {
  const uses: DenoUse[] = [];
  // Each entry is the brace depth at which a template literal's `${` was opened; the top is the innermost one.
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let i = 0;
  const n = source.length;
  const skipQuoted = (quote: string) => {
    i++;
    while (i < n && source[i] !== quote && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1;
    i++;
  };
  // Scans template text from `i` until its closing backtick or a `${`, counting newlines.
  const scanTemplateText = () => {
    while (i < n) {
      const c = source[i];
      if (c === "\\") i += 2;
      else if (c === "`") {
        i++;
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        i += 2;
        templates.push(depth);
        depth++;
        return;
      } else {
        if (c === "\n") line++;
        i++;
      }
    }
  };
  while (i < n) {
    const c = source[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      i += 2;
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) {
        if (source[i] === "\n") line++;
        i++;
      }
      i += 2;
    } else if (c === '"' || c === "'") {
      skipQuoted(c);
    } else if (c === "`") {
      i++;
      scanTemplateText();
    } else if (c === "{") {
      depth++;
      i++;
    } else if (c === "}") {
      depth--;
      i++;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        scanTemplateText();
      }
    } else if (IDENT.test(c)) {
      const start = i;
      while (i < n && IDENT.test(source[i])) i++;
      if (source.slice(start, i) !== "Deno" || previousCodeChar(source, start) === ".") continue;
      let member = "";
      if (source[i] === ".") {
        let j = i + 1;
        while (j < n && IDENT.test(source[j])) j++;
        member = source.slice(i + 1, j);
      }
      uses.push({ line, member });
    } else {
      i++;
    }
  }
  return uses;
}

function previousCodeChar(source: string, at: number): string {
  let j = at - 1;
  while (j >= 0 && (source[j] === " " || source[j] === "\t")) j--;
  return j >= 0 ? source[j] : "";
}
