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
}

/** The content of the brace group opening at `open` (index of `{`), honouring nesting and `\{`. */
function braceGroup(text: string, open: number): { content: string; end: number } {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return { content: text.slice(open + 1, i), end: i + 1 };
  }
  return { content: text.slice(open + 1), end: text.length };
}

/** Every `\boxed{..}` / `\fbox{..}` (also `\boxed 5`) in order, with nested braces. */
export function findBoxed(text: string): Span[] {
  const spans: Span[] = [];
  const re = /\\+(?:boxed|fbox)(?![a-zA-Z])\s*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const at = m.index + m[0].length;
    if (text[at] === "{") {
      const g = braceGroup(text, at);
      spans.push({ start: m.index, end: g.end, content: g.content });
      // An unclosed box runs to the end of the text, so every later box is inside it.
      if (g.end >= text.length) break;
      re.lastIndex = g.end;
    } else {
      const w = /^[^\s$]+/.exec(text.slice(at));
      if (w) spans.push({ start: m.index, end: at + w[0].length, content: w[0] });
    }
  }
  return spans;
}

/** Text between two answers that still lets them form one list ("and", commas, `\quad`, a short `\text`). */
function isJoiner(gap: string): boolean {
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
      spans.push({ start: i, end: end + 2, content: text.slice(i + 2, end) });
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
      spans.push({ start: i, end: found + closeLen, content: text.slice(open, found) });
      i = found + closeLen;
    } else i++;
  }
  return spans.filter((s) => s.content.trim() !== "");
}

const NUMBER_RE = /(?<![\w.,])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.,]\d+)?(?:\s*\/\s*\d+)?(?:\s*(?:%|\\%))?/g;

const MATH_TOKEN_RE = new RegExp(
  String.raw`\\d?frac\s*\{[^{}]*\}\s*\{[^{}]*\}|\\sqrt\s*\{[^{}]*\}|` + NUMBER_RE.source,
  "g",
);

function mathToken(raw: string): string {
  return raw.startsWith("\\") ? raw : plainNumber(raw);
}

/** The first fraction, root or number in a stretch of prose, or null. */
function firstMathToken(text: string): string | null {
  const all = text.match(MATH_TOKEN_RE);
  return all ? mathToken(all[0]) : null;
}

/** The last fraction, root or number in prose with its end position, or null. */
function lastMathToken(text: string): { token: string; end: number } | null {
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(MATH_TOKEN_RE)) last = m;
  return last ? { token: mathToken(last[0]), end: last.index + last[0].length } : null;
}

/** Rewrites a number found in prose: thousands commas dropped, a decimal comma made a point. */
function plainNumber(raw: string): string {
  let s = raw.replace(/\s+/g, "");
  if (/^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?/.test(s) && !/^[-+]?0,/.test(s)) s = s.replace(/,(?=\d{3})/g, "");
  return s.replace(/^([-+]?\d+),(\d+)/, "$1.$2");
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

const ANCHORS: RegExp[] = [
  /final answer is\s*:?\s*|^####\s*/gim,
  /answer is\s*:?\s*|réponse est\s*:?\s*|答案是\s*[:：]?\s*/gi,
  /answer\s*[:：]\s*|réponse\s*[:：]\s*|答案\s*[:：]\s*/gi,
];

function fromSentence(candidate: string, colonAnchor: boolean): string | null {
  let c = candidate.split(/\n|I hope/)[0];
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

function lastMatch(re: RegExp, text: string): number {
  let at = -1;
  for (const m of text.matchAll(re)) at = m.index + m[0].length;
  return at;
}

/**
 * Extracts the final answer of a response, or null when it has none. The result is the raw answer text
 * (several boxed answers joined by ", "); normalisation happens later.
 */
export function extractAnswer(response: string): string | null {
  const text = answerRegion(response);
  const hope = [...text.matchAll(/final answer is\s*:?\s*([^\n]{0,400}?)\.?\s*I hope/gi)].pop();
  if (hope) {
    const found = fromSentence(hope[1], false);
    if (found !== null) return found;
  }
  const boxed = findBoxed(text);
  if (boxed.length > 0) {
    const joined = joinAnswers(lastGroup(boxed, text));
    if (joined !== "") return joined;
  }
  for (let p = 0; p < ANCHORS.length; p++) {
    const at = lastMatch(ANCHORS[p], text);
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

/**
 * Extracts the answer from a gold string: a box or LaTeX blocks when it has them, otherwise the whole
 * string (gold answers are answers, not prose to search).
 */
export function extractGold(gold: string): string | null {
  const text = answerRegion(gold);
  const hashes = /####\s*([^\n]+?)\s*$/.exec(text);
  if (hashes) return hashes[1];
  const boxed = findBoxed(text);
  if (boxed.length > 0) return joinAnswers(lastGroup(boxed, text));
  const blocks = findLatexBlocks(text);
  if (blocks.length > 0) {
    const token = lastMathToken(text);
    if (token !== null && token.end > blocks[blocks.length - 1].end) return token.token;
    return joinAnswers(lastGroup(blocks, text));
  }
  const trimmed = text.trim();
  return trimmed === "" ? null : trimmed;
}
