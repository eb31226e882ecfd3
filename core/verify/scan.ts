/**
 * Bounded scans over attacker text: whitespace skipping, literal search and number reading, each a single
 * pass with no backtracking, so answer extraction stays linear in the length of a response.
 *
 * @module
 */

/** True for the characters the regular expression class `\s` matches. */
export function isSpaceCode(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 ||
    code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** The first index at or after `i` that is not whitespace (`text.length` when there is none). */
export function skipSpaces(text: string, i: number): number {
  while (i < text.length && isSpaceCode(text.charCodeAt(i))) i++;
  return i;
}

/** The end of `text.slice(start, end)` with trailing whitespace removed. */
export function trimEndIndex(text: string, end: number, start = 0): number {
  while (end > start && isSpaceCode(text.charCodeAt(end - 1))) end--;
  return end;
}

/** True for an ASCII digit code. */
export function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The end of the run of ASCII digits starting at `i` (`i` itself when there is none). */
export function digitsEnd(text: string, i: number): number {
  while (i < text.length && isDigitCode(text.charCodeAt(i))) i++;
  return i;
}

/** True for a character of the class `\w` (ASCII letters, digits and `_`). */
export function isWordCode(code: number): boolean {
  return isDigitCode(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

const ESCAPE = /[.*+?^${}()|[\]\\]/g;
/** Compiled literal patterns by needle (the extractor searches for a handful of fixed phrases). */
const LITERALS = new Map<string, RegExp>();

/**
 * The start index of every occurrence of the literal `needle` in `text`, left to right and not
 * overlapping, ignoring case when `ignoreCase` is set (a pattern of literal characters only: linear).
 */
export function literalPositions(text: string, needle: string, ignoreCase: boolean): number[] {
  const key = (ignoreCase ? "i" : "c") + needle;
  let re = LITERALS.get(key);
  if (re === undefined) {
    re = new RegExp(needle.replace(ESCAPE, "\\$&"), ignoreCase ? "gi" : "g");
    LITERALS.set(key, re);
  }
  re.lastIndex = 0;
  const out: number[] = [];
  for (const m of text.matchAll(re)) out.push(m.index);
  return out;
}

/** Where a number read by {@linkcode readNumber} starts and ends, and its text with no spaces. */
export interface NumberToken {
  start: number;
  end: number;
  /** The number as written, whitespace removed (`1,234.5`, `3/4`, `12%`). */
  raw: string;
  /** True when the integer part was written with thousands commas (`12,345`). */
  grouped: boolean;
}

/**
 * Reads a number written in prose at `i`: an optional sign, digits (or `1,234,567` with thousands commas),
 * an optional decimal part after `.` or `,`, an optional `/ denominator` and an optional `%` or `\%`.
 * Returns null when no number starts at `i` or when `i` continues a word, a number or a decimal.
 */
export function readNumber(text: string, i: number): NumberToken | null {
  if (i > 0) {
    const prev = text.charCodeAt(i - 1);
    if (isWordCode(prev) || prev === 46 || prev === 44) return null;
  }
  let p = i;
  const c = text[p];
  if (c === "-" || c === "+") p++;
  const runEnd = digitsEnd(text, p);
  if (runEnd === p) return null;
  let q = runEnd;
  let grouped = false;
  // `1,234,567`: a lead of at most three digits, then groups of exactly three.
  if (runEnd - p <= 3) {
    while (text[q] === "," && digitsEnd(text, q + 1) >= q + 4) {
      q += 4;
      grouped = true;
    }
  }
  let raw = text.slice(i, q);
  if ((text[q] === "." || text[q] === ",") && isDigitCode(text.charCodeAt(q + 1))) {
    const e = digitsEnd(text, q + 1);
    raw += text.slice(q, e);
    q = e;
  }
  let r = skipSpaces(text, q);
  if (text[r] === "/") {
    const d = skipSpaces(text, r + 1);
    const e = digitsEnd(text, d);
    if (e > d) {
      raw += "/" + text.slice(d, e);
      q = e;
      r = skipSpaces(text, q);
    }
  }
  if (text[r] === "%") {
    raw += "%";
    q = r + 1;
  } else if (text[r] === "\\" && text[r + 1] === "%") {
    raw += "\\%";
    q = r + 2;
  }
  return { start: i, end: q, raw, grouped };
}
