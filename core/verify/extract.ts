/**
 * Finds the final answer in a model response, in Math-Verify's order of priority: the last `\boxed{}` /
 * `\fbox{}` (several adjacent boxes become one list), then an answer sentence ("final answer is X",
 * a GSM8K `#### X` line, "answer: X"), then the last LaTeX block (`$..$`, `$$..$$`, `\(..\)`, `\[..\]`, adjacent blocks joined),
 * then the whole text when it is a bare expression, then the last number. Only the text after `</think>`
 * counts when a response has one.
 *
 * @module
 */

import { LIMITS } from "./budget.ts";
import {
  isSpaceCode,
  literalPositions,
  type NumberToken,
  readNumber,
  skipSpaces,
  trimEndIndex,
} from "./scan.ts";

/** Words that may follow a number in an answer without making the text prose. */
const NON_PROSE_WORDS = new Set(
  (
    "and or sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh ln log exp sqrt pi lcm gcd min max mod " +
    "units unit square cubic feet foot ft inches inch cm mm km meters meter metres metre miles mile yards yard " +
    "grams gram kg seconds second sec minutes minute min hours hour hrs days day weeks week years year dollars " +
    "dollar cents cent yuan euros euro degrees degree deg radians radian rad ways percent percentage pct text " +
    "mathrm frac dfrac tfrac cdot times infty left right le ge leq geq neq in cup cap circ quad qquad boxed mbox " +
    "textbf mathbf begin end pmatrix bmatrix matrix array approx pm mp sqrt dots ldots cdots textnormal"
  ).split(" "),
);

/** Two-letter words that mark prose (longer words count when written in lower case). */
const STOP_WORDS = new Set("is of to we so be it at as an on by if no do he me my us".split(" "));

/** Cuts a response to the part that is judged: after `</think>`, before chat-template end markers. */
export function answerRegion(response: string): string {
  let text = response;
  const think = text.lastIndexOf("</think>");
  if (think >= 0) text = text.slice(think + "</think>".length);
  const stop = text.search(/<\|(?:im_start|im_end|endoftext|eot_id)\|>/);
  if (stop >= 0) text = text.slice(0, stop);
  if (text.length > LIMITS.maxResponseChars) text = text.slice(text.length - LIMITS.maxResponseChars);
  return text;
}

interface Span {
  start: number;
  end: number;
  content: string;
  /** False for a brace group that never closes (it runs to the end of the text). */
  closed: boolean;
}

/** The content of the brace group opening at `open` (index of `{`), honouring nesting and `\{`. */
function braceGroup(text: string, open: number): { content: string; end: number; closed: boolean } {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      return { content: text.slice(open + 1, i), end: i + 1, closed: true };
    }
  }
  return { content: text.slice(open + 1), end: text.length, closed: false };
}

/** Every `\boxed{..}` / `\fbox{..}` (also `\boxed 5`) in order, with nested braces. */
export function findBoxed(text: string): Span[] {
  const spans: Span[] = [];
  const re = /boxed|fbox/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (text[m.index - 1] !== "\\" || /[a-zA-Z]/.test(text[m.index + m[0].length] ?? "")) continue;
    let start = m.index - 1;
    while (start > 0 && text[start - 1] === "\\") start--;
    const at = skipSpaces(text, m.index + m[0].length);
    if (text[at] === "{") {
      const g = braceGroup(text, at);
      spans.push({ start, end: g.end, content: g.content, closed: g.closed });
      // An unclosed box runs to the end of the text, so every later box is inside it.
      if (g.end >= text.length) break;
      re.lastIndex = g.end;
    } else {
      let end = at;
      while (end < text.length && text[end] !== "$" && !isSpaceCode(text.charCodeAt(end))) end++;
      if (end > at) spans.push({ start, end, content: text.slice(at, end), closed: true });
      re.lastIndex = Math.max(re.lastIndex, at);
    }
  }
  return spans;
}

/**
 * The content of the last `\boxed{..}` / `\fbox{..}` (or `\boxed 5`) of `text`, nested braces kept, or null when
 * there is none or its braces never close: the answer of a worked solution in a data set.
 */
export function lastBoxed(text: string): string | null {
  const last = findBoxed(text).at(-1);
  return last?.closed ? last.content : null;
}

/** Longest gap between two answers that can still join them into one list. */
const MAX_JOINER_CHARS = 200;

/** Text between two answers that still lets them form one list ("and", commas, `\quad`, a short `\text`). */
function isJoiner(gap: string): boolean {
  if (gap.length > MAX_JOINER_CHARS) return false;
  const rest = gap
    .replace(/\\(?:text|textbf|mbox|textnormal)\s*\{[^{}]{0,40}\}/g, " ")
    .replace(/\\q?quad|\\[,;:! ]|\\\(|\\\)|\\\[|\\\]|\$/g, " ")
    .replace(/[A-Za-z](?:_\{?\w+\}?)?\s*=/g, "")
    .replace(/\b(?:and|or)\b|[,;.\s]/gi, "");
  return rest === "";
}

function lastGroup(spans: Span[], text: string): string[] {
  const out = [spans[spans.length - 1].content];
  for (let i = spans.length - 1; i > 0; i--) {
    if (!isJoiner(text.slice(spans[i - 1].end, spans[i].start))) break;
    out.unshift(spans[i - 1].content);
  }
  return out;
}

function joinAnswers(parts: string[]): string {
  const unique = parts.map((p) => p.trim()).filter((p, i, all) => p !== "" && all.indexOf(p) === i);
  return unique.join(", ");
}

/** LaTeX math blocks in order: `$$..$$`, `$..$` (one line), `\[..\]`, `\(..\)`; `\$` is not a delimiter. */
export function findLatexBlocks(text: string): Span[] {
  const spans: Span[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && (text[i + 1] === "[" || text[i + 1] === "(")) {
      const close = text[i + 1] === "[" ? "\\]" : "\\)";
      const end = text.indexOf(close, i + 2);
      if (end < 0) break;
      spans.push({ start: i, end: end + 2, content: text.slice(i + 2, end), closed: true });
      i = end + 2;
    } else if (c === "\\") {
      i += 2;
    } else if (c === "$") {
      const double = text[i + 1] === "$";
      const open = i + (double ? 2 : 1);
      let j = open;
      let found = -1;
      while (j < text.length) {
        if (text[j] === "\\") {
          j += 2;
          continue;
        }
        if (text[j] === "$") {
          found = j;
          break;
        }
        if (!double && text[j] === "\n") break;
        j++;
      }
      if (found < 0) {
        i = open;
        continue;
      }
      const closeLen = double && text[found + 1] === "$" ? 2 : 1;
      spans.push({ start: i, end: found + closeLen, content: text.slice(open, found), closed: true });
      i = found + closeLen;
    } else i++;
  }
  return spans.filter((s) => s.content.trim() !== "");
}

/** The end of `\frac{..}{..}` / `\dfrac{..}{..}` / `\sqrt{..}` (no nested braces) starting at `i`, or -1. */
function latexTokenEnd(text: string, i: number): number {
  let p: number, groups: number;
  if (text.startsWith("\\frac", i)) [p, groups] = [i + 5, 2];
  else if (text.startsWith("\\dfrac", i)) [p, groups] = [i + 6, 2];
  else if (text.startsWith("\\sqrt", i)) [p, groups] = [i + 5, 1];
  else return -1;
  for (let g = 0; g < groups; g++) {
    p = skipSpaces(text, p);
    if (text[p] !== "{") return -1;
    p++;
    while (p < text.length && text[p] !== "{" && text[p] !== "}") p++;
    if (text[p] !== "}") return -1;
    p++;
  }
  return p;
}

/** Rewrites a number found in prose: thousands commas dropped, a decimal comma made a point. */
function plainNumber(tok: NumberToken): string {
  let s = tok.raw;
  if (tok.grouped && !/^[-+]?0,/.test(s)) s = s.replace(/,(?=\d{3})/g, "");
  return s.replace(/^([-+]?\d+),(\d+)/, "$1.$2");
}

interface MathToken {
  token: string;
  end: number;
}

/**
 * Visits the fractions, roots and numbers of a stretch of prose left to right, until `visit` returns false
 * (nothing is collected, so a long run of numbers costs no memory).
 */
function scanMathTokens(text: string, visit: (token: MathToken) => boolean): void {
  const next = /[\\\d+-]/g;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 92 && c !== 43 && c !== 45 && (c < 48 || c > 57)) {
      // Jump to the next character that can start a token (a native scan, faster than a JS loop).
      next.lastIndex = i;
      if (next.exec(text) === null) return;
      i = next.lastIndex - 1;
    }
    let token: MathToken | null = null;
    if (text.charCodeAt(i) === 92) {
      const end = latexTokenEnd(text, i);
      if (end > 0) token = { token: text.slice(i, end), end };
    } else {
      const n = readNumber(text, i);
      if (n !== null) token = { token: plainNumber(n), end: n.end };
    }
    if (token === null) i++;
    else {
      i = token.end;
      if (!visit(token)) return;
    }
  }
}

/** The first fraction, root or number in a stretch of prose, or null. */
function firstMathToken(text: string): string | null {
  let first: string | null = null;
  scanMathTokens(text, (t) => {
    first = t.token;
    return false;
  });
  return first;
}

/** The last fraction, root or number in prose with its end position, or null. */
function lastMathToken(text: string): MathToken | null {
  let last: MathToken | null = null;
  scanMathTokens(text, (t) => {
    last = t;
    return true;
  });
  return last;
}

/** True when the text reads as a sentence rather than a bare expression (two or more ordinary words). */
export function isProse(text: string): boolean {
  const stripped = text
    .replace(/\\(?:text|textbf|mbox|textnormal|mathrm|operatorname)\s*\{[^{}]*\}/g, " ")
    .replace(/\\[a-zA-Z]+/g, " ");
  const words = (stripped.match(/[A-Za-z\u00C0-\u024F]{2,}|[^ -\u024F\s\d]/g) ?? [])
    .filter((w) => !NON_PROSE_WORDS.has(w.toLowerCase()))
    .filter((w) =>
      /^[^ -\u024F]$/.test(w) || STOP_WORDS.has(w.toLowerCase()) ||
      /^[A-Za-z\u00C0-\u024F]?[a-z\u00DF-\u024F]{2,}$/.test(w)
    );
  if (words.length >= 2) return true;
  // One long word beside other text ("Soucis : 2,74") is prose too; a lone word ("Evelyn") is an answer.
  return words.length === 1 && words[0].length >= 4 && stripped.trim() !== words[0];
}

/** One phrase that introduces an answer, and whether a colon must, may or may not follow it. */
export interface AnswerCue {
  /** The phrase, matched ignoring case. */
  phrase: string;
  /** `required`: "answer:" but not "answer"; `optional`: "answer is" and "answer is:"; `none`: no colon. */
  colon: "required" | "optional" | "none";
  /** The phrase counts only at the start of a line (GSM8K's `#### 72`). */
  lineStart?: boolean;
}

/** The answer cues the extractor knows, in groups of decreasing priority (the last cue of a group wins). */
export const ANSWER_CUES: readonly (readonly AnswerCue[])[] = [
  [{ phrase: "final answer is", colon: "optional" }, { phrase: "####", colon: "none", lineStart: true }],
  [
    { phrase: "answer is", colon: "optional" },
    { phrase: "réponse est", colon: "optional" },
    { phrase: "答案是", colon: "optional" },
  ],
  [
    { phrase: "answer", colon: "required" },
    { phrase: "réponse", colon: "required" },
    { phrase: "答案", colon: "required" },
  ],
];

/** The part of "The final answer is X. I hope it is correct." that `extractAnswer` reads first. */
const HOPE_CUE = ANSWER_CUES[0][0];
const HOPE = "I hope";
/** Longest answer read between "final answer is" and "I hope". */
const MAX_HOPE_ANSWER = 400;

function isColon(c: string | undefined): boolean {
  return c === ":" || c === "：";
}

/** Where the answer after the cue occurrence at `at` starts (spaces and colon skipped), or -1. */
function afterCue(text: string, at: number, cue: AnswerCue): number {
  if (cue.lineStart && at > 0 && !"\n\r\u2028\u2029".includes(text[at - 1])) return -1;
  const i = skipSpaces(text, at + cue.phrase.length);
  if (cue.colon === "none") return i;
  if (isColon(text[i])) return skipSpaces(text, i + 1);
  return cue.colon === "required" ? -1 : i;
}

/** One pattern per cue group: its phrases as literal alternatives (no quantifier, so linear). */
const CUE_PATTERNS = ANSWER_CUES.map((group) =>
  new RegExp(group.map((c) => c.phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gi")
);

/** Where the answer after the last occurrence of any cue of group `g` starts, or -1. */
function lastCue(text: string, g: number): number {
  const group = ANSWER_CUES[g], re = CUE_PATTERNS[g];
  let best = -1;
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    const lower = m[0].toLowerCase();
    const cue = group.find((c) => c.phrase.toLowerCase() === lower);
    const start = cue === undefined ? -1 : afterCue(text, m.index, cue);
    if (start >= 0) best = start;
  }
  return best;
}

/** The answer of the last "final answer is X. I hope" (X on one line, at most 400 characters), or null. */
function hopeAnswer(text: string): string | null {
  const hopes = literalPositions(text, HOPE, true);
  if (hopes.length === 0) return null;
  const cues = literalPositions(text, HOPE_CUE.phrase, true);
  const trimmed = new Map<number, number>();
  let h = hopes.length - 1;
  for (let k = cues.length - 1; k >= 0; k--) {
    const start = afterCue(text, cues[k], HOPE_CUE);
    // The first "I hope" after the cue: cues are visited right to left, so this pointer only moves left.
    while (h > 0 && hopes[h - 1] >= start) h--;
    if (hopes[h] < start) continue;
    let end = trimmed.get(hopes[h]);
    if (end === undefined) {
      end = trimEndIndex(text, hopes[h]);
      trimmed.set(hopes[h], end);
    }
    end = Math.max(end, start);
    if (end > start && text[end - 1] === ".") end--;
    if (end - start > MAX_HOPE_ANSWER || text.slice(start, end).includes("\n")) continue;
    return fromSentence(text.slice(start, end), false);
  }
  return null;
}

function fromSentence(candidate: string, colonAnchor: boolean): string | null {
  // An answer sentence longer than an answer can be is cut (the cut text is still too long to parse).
  let c = candidate.slice(0, LIMITS.maxAnswerChars + 1).split(/\n|I hope/)[0];
  if (colonAnchor) {
    const is = c.lastIndexOf(" is ");
    if (is >= 0) c = c.slice(is + 4);
  }
  const blocks = findLatexBlocks(c);
  if (blocks.length > 0 && /^\s*(?:\$|\\\(|\\\[)/.test(c)) return blocks[0].content;
  c = c.split(/[.。](?:\s|$)|。/)[0].trim();
  if (c === "") return null;
  if (!isProse(c) && !c.includes("$")) return c;
  if (blocks.length > 0) return blocks[0].content;
  return firstMathToken(c);
}

/**
 * Extracts the final answer of a response, or null when it has none. The result is the raw answer text
 * (several boxed answers joined by ", "); normalisation happens later.
 */
export function extractAnswer(response: string): string | null {
  const text = answerRegion(response);
  const hope = hopeAnswer(text);
  if (hope !== null) return hope;
  const boxed = findBoxed(text);
  if (boxed.length > 0) {
    const joined = joinAnswers(lastGroup(boxed, text));
    if (joined !== "") return joined;
  }
  for (let p = 0; p < ANSWER_CUES.length; p++) {
    const at = lastCue(text, p);
    if (at < 0) continue;
    const found = fromSentence(text.slice(at), p === 2);
    if (found !== null) return found;
  }
  const blocks = findLatexBlocks(text);
  const trimmed = text.trim();
  if (blocks.length === 0 && trimmed !== "" && trimmed.length <= LIMITS.maxAnswerChars && !isProse(trimmed)) {
    return trimmed;
  }
  const token = lastMathToken(text);
  if (blocks.length > 0 && (token === null || token.end <= blocks[blocks.length - 1].end)) {
    return joinAnswers(lastGroup(blocks, text));
  }
  return token?.token ?? null;
}

/** The answer of a GSM8K-style gold (`... #### 72`): the one line after the first `####` that ends the text. */
function hashesAnswer(text: string): string | null {
  const end = trimEndIndex(text, text.length);
  const lastBreak = text.lastIndexOf("\n", end - 1);
  for (const at of literalPositions(text, "####", false)) {
    const start = skipSpaces(text, at + 4);
    if (start > lastBreak && start < end) return text.slice(start, end);
  }
  return null;
}

/**
 * Extracts the answer from a gold string: a box or LaTeX blocks when it has them, otherwise the whole
 * string (gold answers are answers, not prose to search).
 */
export function extractGold(gold: string): string | null {
  const text = answerRegion(gold);
  const hashes = hashesAnswer(text);
  if (hashes !== null) return hashes;
  const boxed = findBoxed(text);
  if (boxed.length > 0) return joinAnswers(lastGroup(boxed, text));
  const blocks = findLatexBlocks(text);
  if (blocks.length > 0) {
    // `2 and $\\sqrt{3}$`: numbers beside the blocks belong to the answer when the whole is no sentence.
    let outside = "", from = 0;
    for (const b of blocks) [outside, from] = [outside + text.slice(from, b.start) + " ", b.end];
    outside += text.slice(from);
    if (!outside.includes("$") && firstMathToken(outside) !== null && !isProse(text.replace(/\$/g, " "))) {
      return text.trim();
    }
    const token = lastMathToken(text);
    if (token !== null && token.end > blocks[blocks.length - 1].end) return token.token;
    return joinAnswers(lastGroup(blocks, text));
  }
  const trimmed = text.trim();
  if (trimmed === "") return null;
  return isProse(trimmed) ? sentenceAnswer(trimmed) ?? trimmed : trimmed;
}

/** The answer a gold sentence states ("The number is 4."): after an answer cue, or its only number. */
function sentenceAnswer(text: string): string | null {
  for (let p = 0; p < ANSWER_CUES.length; p++) {
    const at = lastCue(text, p);
    const found = at < 0 ? null : fromSentence(text.slice(at), p === 2);
    if (found !== null) return found;
  }
  const tokens: string[] = [];
  scanMathTokens(text, (t) => tokens.push(t.token) < 2);
  return tokens.length === 1 ? tokens[0] : null;
}
