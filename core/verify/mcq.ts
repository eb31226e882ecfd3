/**
 * Multiple-choice answers: a gold that is a letter A–E (`B`, `(D) Alina`, `\text{C}`) is matched against the
 * letter the response chooses (a box, a bare letter, "answer is C", a leading "D.", else the last lone
 * capital A–E of a plain-text response).
 *
 * @module
 */

import { answerRegion, findBoxed } from "./extract.ts";
import { canonicalString } from "./normalize.ts";

/** Longest response read as a bare choice once formatting is removed (`$\\text{(B)}$`). */
const MAX_BARE_CHOICE_CHARS = 64;

/** The choice letter of a multiple-choice gold answer, or null when the gold is not one. */
export function goldChoice(gold: string): string | null {
  const c = canonicalString(gold);
  if (/^\(?[A-E]\)?$/.test(c)) return c.replace(/[()]/g, "");
  const m = /^\s*\(?([A-E])\)?(?:\s+[A-Z][a-z]|\s*$)/.exec(gold.replace(/^\s*\$?\s*/, ""));
  return m ? m[1] : null;
}

/** The letter a response picks, or null when it picks none. */
export function responseChoice(response: string): string | null {
  const text = answerRegion(response);
  const boxed = findBoxed(text);
  if (boxed.length > 0) {
    // `B`, `(B)`, `\\text{(B)}`, and a letter with its option's text: `B) 12`, `(D) \\frac12`, `C. 24`.
    const c = canonicalString(boxed[boxed.length - 1].content);
    const m = /^\(([A-E])\)|^([A-E])(?:[).:]|$)/.exec(c);
    return m ? m[1] ?? m[2] : null;
  }
  const trimmed = text.trim();
  if (trimmed.length <= MAX_BARE_CHOICE_CHARS) {
    const whole = canonicalString(trimmed).replace(/[()]/g, "");
    if (/^[A-E]$/.test(whole)) return whole;
  }
  if (text.includes("\\")) return null;
  const lead = /^\s*\(?([A-E])\)?(?![A-Za-z])/.exec(text);
  if (lead) return lead[1];
  let anchored: string | null = null;
  for (
    const m of text.matchAll(
      /(?:answer is|answer:|réponse est|réponse :|答案是|答案：|it's|is)\s*\(?([A-E])\)?(?![A-Za-z])/gi,
    )
  ) {
    anchored = m[1];
  }
  if (anchored) return anchored;
  const lone = [...text.matchAll(/(?<![A-Za-z])([A-E])(?![A-Za-z])/g)];
  return lone.length > 0 ? lone[lone.length - 1][1] : null;
}
