/**
 * String-level clean-up of an extracted answer before parsing: delimiters, spacing commands, `\left`/`\right`,
 * fraction variants, thousands separators, percent words, degrees, currency, trailing units and punctuation,
 * mixed numbers.
 *
 * @module
 */

import { isSpaceCode, trimEndIndex } from "./scan.ts";

const UNIT_WORDS =
  "units?|square|sq|cubic|feet|foot|ft|inches|inch|cm|mm|km|m|meters?|metres?|miles?|mi|yards?|yd|grams?|g|kg|" +
  "mg|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?|dollars?|cents?|yuan|euros?|" +
  "pounds?|lbs?|ounces?|oz|degrees?|radians?|rad|ways|people|students|liters?|litres?|L|mL|ml|mph|eV|" +
  "Pa|Hz|mol|kJ|kW|kWh|nm|Å";

const TRAILING_PUNCTUATION = ".,;:?。";

const TRAILING_UNIT = new RegExp(`(\\S)\\s+(?:${UNIT_WORDS})(?:\\s*\\^\\s*\\{?\\d\\}?)?\\s*$`);
const TRAILING_LATEX_UNIT =
  /(\S)\s*(?:[/*]\s*)?(?:\\(?:text|textnormal|textbf|textit|mbox)\s*\{[^{}]*\}|\\mathrm\s*\{(?:\s[^{}]*|\s*[A-Za-z]{2,}\s*)\}|(?<=[\d\s])\{\s*~?[A-Za-z]{2,}\s*\})(?:\s*\^\s*\{?-?\d\}?)?\s*$/;

/** `s` without a final `\\` or `\` (and the spaces around it). */
function stripTrailingBackslashes(s: string): string {
  let end = trimEndIndex(s, s.length);
  if (s[end - 1] !== "\\") return s;
  end -= s[end - 2] === "\\" ? 2 : 1;
  return s.slice(0, trimEndIndex(s, end));
}

/** `s` without trailing spaces and sentence punctuation. */
function stripTrailingPunctuation(s: string): string {
  let end = s.length;
  while (end > 0 && (isSpaceCode(s.charCodeAt(end - 1)) || TRAILING_PUNCTUATION.includes(s[end - 1]))) end--;
  return s.slice(0, end);
}

function mixedNumber(whole: string, num: string, den: string, lead: string): string {
  const n = Number(num), d = Number(den);
  if (d > 0 && n < d) return `${lead}(${whole}+${num}/${den})`;
  return `${lead}${whole} ${num}/${den}`;
}

/** Normalises an extracted answer string (see the module doc for the list of rewrites). */
export function normalizeAnswer(answer: string): string {
  let s = answer.trim();
  if (/^-?\d{1,30}(?:\.\d{1,30})?$/.test(s)) return s;
  // Answers escaped twice (`\\\\frac`) get single backslashes back, unless single ones occur too.
  if (!/(?<!\\)\\[a-zA-Z]/.test(s)) s = s.replace(/\\\\(?=[a-zA-Z])/g, "\\");
  s = s.replace(/\\\$|\$|\\\(|\\\)|\\\[|\\\]/g, " ");
  s = s.replace(/\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])\s*\.?/g, "");
  s = s.replace(/\\(?:dfrac|tfrac|cfrac)(?![a-zA-Z])/g, "\\frac");
  s = s.replace(
    /\^\s*\{\s*((?:\\prime\s*)+)\}|\^\s*(\\prime)/g,
    (_m, a, b) => "'".repeat(((a ?? b) as string).split("prime").length - 1),
  );
  s = s.replace(/\b(?:np|math|sympy|sp)\.(?=[a-z])/g, "");
  s = s.replace(/\\(?:displaystyle|textstyle|limits|nolimits)(?![a-zA-Z])/g, "");
  // Thousands separators written with LaTeX spacing: 11,\! 111 and 14{,}916.
  s = s.replace(/(\d)\s*(?:\{,\}|,\\!)\s*(?=\d{3}(?!\d))/g, "$1");
  s = s.replace(/\\q?quad(?![a-z])|(?<!\\)\\[,;:! ]|~/g, " ");
  s = s.replace(/\\%|％/g, "%");
  s = s.replace(/(?<!\s)\s*(?:\\text\s*\{\s*)?(?:percentage|percent|pct)(?![a-zA-Z])(?:\s*\})?/gi, "%");
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|°/g, "°");
  s = s.replace(/[€£¥]|\\euro(?![a-zA-Z])|\\pounds(?![a-zA-Z])/g, "");
  s = s.replace(/\\(?:dots|ldots|cdots|dotsc|dotsb)(?![a-zA-Z])|\.{3}|…/g, "\\dots ");
  // "or" joins alternatives (a list, or the union of inequalities); "and" joins list members.
  s = s.replace(/(?<=[\d)}])or(?=[A-Z(\\])/g, " \\lor ");
  s = s.replace(/\\text\s*\{\s*or\s*\}|(?<![\s,]),?\s+or\s+/g, " \\lor ");
  s = s.replace(/\\text\s*\{\s*and\s*\}/g, ",").replace(/(?<![\s,]),?\s+and\s+/g, ", ");
  for (let i = 0; i < 4; i++) {
    const before = s;
    s = stripTrailingPunctuation(stripTrailingBackslashes(s));
    s = s.replace(TRAILING_LATEX_UNIT, "$1").replace(TRAILING_UNIT, "$1");
    if (s === before) break;
  }
  s = s.trim();
  if (/^[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?%?$/.test(s)) s = s.replace(/,/g, "");
  else if (/^[-+]?\d{1,3}(?: \d{3})+$/.test(s)) s = s.replace(/ /g, "");
  else if (/^[-+]?0,\d+$/.test(s)) s = s.replace(",", ".");
  s = s.replace(
    /(^|[^\d.}\w])(\d+) +(\d+)\s*\/\s*(\d+)(?![\d.])/g,
    (_m, lead, w, n, d) => mixedNumber(w, n, d, lead),
  );
  s = s.replace(
    /(^|[^\d.}\w^_])(\d+)\s*\\frac\s*\{(\d+)\}\s*\{(\d+)\}/g,
    (_m, lead, w, n, d) => mixedNumber(w, n, d, lead),
  );
  return s.trim();
}

/**
 * A canonical string for cheap equality and for text answers: no spaces, no formatting commands, no
 * `\text{}` wrappers.
 */
export function canonicalString(answer: string): string {
  return normalizeAnswer(answer)
    .replace(
      /\\(?:text|textbf|textit|mathrm|mathbf|mathit|textnormal|mbox|operatorname)\s*\{([^{}]*)\}/g,
      "$1",
    )
    .replace(/\s+/g, "")
    .replace(/^\{([^{}]*)\}$/, "$1");
}
