/**
 * Where a response leaves the gold chain of a generated problem: the first character at which it differs from
 * the worked solution, and the step that character belongs to.
 *
 * @module
 */

/** The first departure of a response from a gold chain. */
export interface ChainDeparture {
  /** Index of the chain segment (step) holding the first differing character. */
  step: number;
  /** Offset in the response of the first differing character (its length when it stops early). */
  offset: number;
}

/**
 * Compares `response` with the gold chain `chain` (segments whose concatenation is the worked solution) one
 * character at a time. Returns null when the response is the worked solution; otherwise the first differing
 * character and its step. A response that stops early departs at its end, in the step it stopped in; one that
 * goes on past the solution departs at the solution's length, in the last step. Linear in the response length.
 */
export function chainDeparture(chain: readonly string[], response: string): ChainDeparture | null {
  let offset = 0;
  for (let step = 0; step < chain.length; step++) {
    const segment = chain[step];
    for (let i = 0; i < segment.length; i++, offset++) {
      if (offset >= response.length || response.charCodeAt(offset) !== segment.charCodeAt(i)) {
        return { step, offset };
      }
    }
  }
  if (offset === response.length) return null;
  return { step: Math.max(0, chain.length - 1), offset };
}
