/**
 * `verify(gold, response)`: extraction, normalisation, parsing (gold parses are cached) and comparison,
 * inside a time budget, with every failure turned into a verdict: no exception leaves this function.
 *
 * @module
 */

import { Budget, LimitError, LIMITS, TimeoutError } from "./budget.ts";
import { type CompareContext, compareValues } from "./compare.ts";
import { answerRegion, extractAnswer, extractGold } from "./extract.ts";
import { formProblem } from "./form.ts";
import { goldChoice, responseChoice } from "./mcq.ts";
import { canonicalString, normalizeAnswer } from "./normalize.ts";
import { parseAnswer, ParseError } from "./parser.ts";
import * as Q from "./rational.ts";
import type { Judge } from "./judge.ts";
import { decimalsAgree } from "./tolerance.ts";
import type { JudgedVerifyOptions, Verdict, VerifyOptions } from "./types.ts";
import { inGoldUnit, type Quantity, splitUnit } from "./units.ts";
import type { Value } from "./value.ts";

/** Default time budget of one verification, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** Default relative tolerance for decimals. */
export const DEFAULT_REL_TOL = 1e-6;
const DEFAULT_SEED = 0x5eed;
const GOLD_CACHE_SIZE = 2048;

/** Everything derived from a gold string, cached across calls (RL checks many responses per gold). */
interface GoldInfo {
  text: string | null;
  choice: string | null;
  norm: string;
  canon: string;
  /** The gold's value and unit when it ends in a known unit (`norm` and `canon` then hold the value only). */
  quantity: Quantity | null;
  value: Value | Error | null;
}

const goldCache = new Map<string, GoldInfo>();

function goldInfo(gold: string): GoldInfo {
  const hit = goldCache.get(gold);
  if (hit !== undefined) return hit;
  const text = extractGold(gold);
  // Too long a gold is refused by `run` before these are read; they are not computed for it.
  const usable = text !== null && text.length <= LIMITS.maxAnswerChars;
  const quantity = usable ? splitUnit(text) : null;
  const bare = quantity?.value ?? text;
  const info: GoldInfo = {
    text,
    choice: usable ? goldChoice(text) : null,
    norm: usable ? normalizeAnswer(bare!) : "",
    canon: usable ? canonicalString(bare!) : "",
    quantity,
    value: null,
  };
  if (goldCache.size >= GOLD_CACHE_SIZE) goldCache.delete(goldCache.keys().next().value!);
  goldCache.set(gold, info);
  return info;
}

function parseGold(info: GoldInfo, budget: Budget): Value {
  if (info.value === null) {
    try {
      info.value = parseAnswer(info.norm, budget);
    } catch (e) {
      if (e instanceof TimeoutError) throw e;
      info.value = e instanceof Error ? e : new Error(String(e));
    }
  }
  if (info.value instanceof Error) throw info.value;
  return info.value;
}

function verdict(status: Verdict["status"], extracted: string | null, reason: string): Verdict {
  return { correct: status === "correct", status, extracted, reason };
}

const KIND_NAMES: Record<Value["t"], string> = {
  expr: "expression",
  text: "text",
  list: "set",
  tuple: "tuple or interval",
  union: "union",
  matrix: "matrix",
  rel: "relation",
  logic: "solution set",
  time: "time",
  dots: "sequence",
};

const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * `s` with unmatched `}` dropped, unclosed `{` closed, and unclosed `(` closed when the answer has no square
 * brackets (which could make it a half-open interval); null when nothing changes.
 */
export function repairBrackets(s: string): string | null {
  let out = "", braces = 0, parens = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "\\") {
      out += s.slice(i, i + 2);
      i++;
      continue;
    }
    if (ch === "{") braces++;
    else if (ch === "}") {
      if (braces === 0) continue;
      braces--;
    } else if (ch === "(") parens++;
    else if (ch === ")") parens--;
    out += ch;
  }
  out += "}".repeat(braces);
  if (parens > 0 && !/[[\]]/.test(s)) out += ")".repeat(parens);
  return out === s ? null : out;
}

function run(gold: string, response: string, options: VerifyOptions): Verdict {
  const budget = new Budget(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (typeof gold !== "string" || typeof response !== "string") {
    return verdict("unparseable", null, "gold and response must be strings");
  }
  if (options.truncated) {
    return verdict("wrong", extractAnswer(response), "the response was truncated at the length limit");
  }
  if (gold.length > LIMITS.maxResponseChars) {
    return verdict("unparseable", null, "the gold answer is too long");
  }
  const gi = goldInfo(gold);
  if (gi.text === null) return verdict("unparseable", null, "the gold answer is empty");
  if (gi.text.length > LIMITS.maxAnswerChars) {
    return verdict("unparseable", null, `the gold answer is longer than ${LIMITS.maxAnswerChars} characters`);
  }

  if (gi.choice !== null) {
    const picked = responseChoice(response);
    if (picked === null) return verdict("no_answer", null, "no choice letter found in the response");
    return picked === gi.choice
      ? verdict("correct", picked, `chose ${picked}`)
      : verdict("wrong", picked, `chose ${picked}, expected ${gi.choice}`);
  }

  const extracted = extractAnswer(response);
  if (extracted === null) return verdict("no_answer", null, "no answer found in the response");
  if (extracted.length > LIMITS.maxAnswerChars) {
    return verdict(
      "unparseable",
      extracted.slice(0, 200),
      `the answer is longer than ${LIMITS.maxAnswerChars} characters`,
    );
  }
  // A unit after the answer: compared with the gold's unit (converted when allowed), then dropped.
  let answer = extracted;
  const quantity = splitUnit(extracted);
  if (quantity !== null) {
    const inGold = gi.quantity === null
      ? quantity.value
      : inGoldUnit(gi.quantity, quantity, !!options.sameUnit);
    if (inGold instanceof Error) return verdict("wrong", extracted, inGold.message);
    answer = inGold;
  }
  const g = gi.norm, p = normalizeAnswer(answer);
  if (p === "") return verdict("no_answer", extracted, "the extracted answer is empty");
  if (PLAIN_NUMBER.test(g) && PLAIN_NUMBER.test(p)) {
    const a = Q.parseDecimal(g.replace("-", "")), b = Q.parseDecimal(p.replace("-", ""));
    if (a !== null && b !== null) {
      const neg = (s: string) => s.startsWith("-");
      const same = neg(g) === neg(p) || (a.num === 0n && b.num === 0n);
      const exact = !/[.]/.test(g + p);
      const ga = Q.toNumber(a) * (neg(g) ? -1 : 1), pb = Q.toNumber(b) * (neg(p) ? -1 : 1);
      const ok = exact ? same && Q.equals(a, b) : decimalsAgree({ re: ga, im: 0 }, { re: pb, im: 0 }, {
        relTol: options.relTol ?? DEFAULT_REL_TOL,
        decimalPlaces: options.decimalPlaces ?? null,
      });
      return ok
        ? verdict("correct", extracted, "equal numbers")
        : verdict("wrong", extracted, "different numbers");
    }
  }
  if (gi.canon === canonicalString(answer)) {
    return verdict("correct", extracted, "identical after normalisation");
  }
  let goldValue: Value;
  try {
    goldValue = parseGold(gi, budget);
  } catch (e) {
    if (e instanceof TimeoutError) throw e;
    return verdict(
      "wrong",
      extracted,
      `the gold answer could not be parsed (${(e as Error).message}); texts differ`,
    );
  }
  let predValue: Value;
  try {
    predValue = parseAnswer(p, budget);
  } catch (e) {
    if (!(e instanceof ParseError || e instanceof LimitError)) throw e;
    // Malformed LaTeX a reader still understands (`\\frac{1}{2}}`, `(\\frac{1}{2}`) gets one repair.
    const repaired = e instanceof ParseError ? repairBrackets(p) : null;
    try {
      if (repaired === null) throw e;
      predValue = parseAnswer(repaired, budget);
    } catch (again) {
      if (again instanceof ParseError || again instanceof LimitError) {
        return verdict("unparseable", extracted, `the answer could not be parsed: ${e.message}`);
      }
      throw again;
    }
  }
  const ctx: CompareContext = {
    budget,
    relTol: options.relTol ?? DEFAULT_REL_TOL,
    decimalPlaces: options.decimalPlaces ?? null,
    relationAsSet: options.relationAsSet ?? false,
    seed: options.seed ?? DEFAULT_SEED,
  };
  const kind = KIND_NAMES[goldValue.t];
  if (!compareValues(goldValue, predValue, ctx)) {
    return verdict("wrong", extracted, `not equivalent to the gold ${kind}`);
  }
  const badForm = options.form === undefined ? null : formProblem(options.form, goldValue, predValue);
  return badForm === null
    ? verdict("correct", extracted, `equivalent ${kind}`)
    : verdict("wrong", extracted, badForm);
}

function verifyByRules(gold: string, response: string, options: VerifyOptions): Verdict {
  try {
    return run(gold, response, options);
  } catch (e) {
    if (e instanceof TimeoutError) return verdict("timeout", null, "the time budget was exceeded");
    if (e instanceof LimitError) return verdict("unparseable", null, `input too large: ${e.message}`);
    return verdict("unparseable", null, `internal error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Longest tail of a response sent to the judge when no answer could be extracted from it. */
const JUDGE_TAIL_CHARS = 2_000;

/**
 * Hands a rule verdict to the judge when it is "wrong" or "unparseable" (never for a truncated response):
 * `A` makes it correct, `B` keeps it, a failure keeps it with the reason. Other verdicts come back unchanged.
 */
export async function judgeVerdict(
  gold: string,
  response: string,
  rules: Verdict,
  judge: Judge,
  options: { question?: string; truncated?: boolean } = {},
): Promise<Verdict> {
  if (rules.status !== "wrong" && rules.status !== "unparseable") return rules;
  if (options.truncated || typeof gold !== "string" || typeof response !== "string") return rules;
  const goldText = extractGold(gold);
  if (goldText === null || goldText.length > LIMITS.maxAnswerChars) return rules;
  const answer = rules.extracted ?? answerRegion(response).slice(-JUDGE_TAIL_CHARS);
  const result = await judge.ask({ question: options.question, gold: goldText, answer });
  switch (result.decision) {
    case "equivalent":
      return {
        ...verdict("correct", rules.extracted, `the judge found it equivalent (rules: ${rules.reason})`),
        judged: "correct",
      };
    case "different":
      return { ...rules, judged: "wrong" };
    case "failed":
      return { ...rules, reason: `${rules.reason}; ${result.error}`, judged: "failed" };
  }
}

/**
 * Checks a model response against a gold answer. Never throws: bad input, unparseable answers, limits and
 * the time budget all become a {@linkcode Verdict}. With a `judge` (see `judge.ts`) the result is a promise:
 * the rules decide first, and only a "wrong" or "unparseable" verdict is sent to the judge.
 */
export function verify(gold: string, response: string, options: JudgedVerifyOptions): Promise<Verdict>;
export function verify(gold: string, response: string, options?: VerifyOptions): Verdict;
export function verify(
  gold: string,
  response: string,
  options: VerifyOptions | JudgedVerifyOptions = {},
): Verdict | Promise<Verdict> {
  const o = options ?? {};
  if ("judge" in o && o.judge !== undefined) {
    return judgeVerdict(gold, response, verifyByRules(gold, response, o), o.judge, o);
  }
  return verifyByRules(gold, response, o);
}
