/**
 * Stop conditions for generation: stop token ids and stop sequences (of token ids or of text), including what
 * a streaming server must hold back because it may turn out to be the start of a stop string.
 *
 * @module
 */

/** Stop token ids as a lookup table; ids must be non-negative integers. */
export class StopTokens {
  readonly #set: Set<number>;

  /** Builds the table; throws on a negative or non-integer id. */
  constructor(ids: Iterable<number>) {
    this.#set = new Set();
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) throw new RangeError(`StopTokens: bad token id ${id}`);
      this.#set.add(id);
    }
  }

  /** Whether `id` ends a sequence. */
  has(id: number): boolean {
    return this.#set.has(id);
  }

  /** The number of distinct stop ids. */
  get size(): number {
    return this.#set.size;
  }
}

/**
 * The length of the first of `sequences` that `tokens[0, length)` ends with, or 0 when none matches. Empty
 * sequences never match. Checking after every appended token finds a stop sequence as soon as it completes.
 */
export function endsWithSequence(
  tokens: ArrayLike<number>,
  length: number,
  sequences: readonly (readonly number[])[],
): number {
  if (!Number.isInteger(length) || length < 0 || length > tokens.length) {
    throw new RangeError(`endsWithSequence: bad length ${length} for ${tokens.length} tokens`);
  }
  outer: for (const seq of sequences) {
    const n = seq.length;
    if (n === 0 || n > length) continue;
    for (let i = 0; i < n; i++) if (tokens[length - n + i] !== seq[i]) continue outer;
    return n;
  }
  return 0;
}

/** Where text generation stops: the text before the earliest stop string, and which one matched. */
export interface TextStop {
  /** The text up to (not including) the earliest stop string, or all of it. */
  text: string;
  /** The stop string found, or null when none occurs. */
  stop: string | null;
}

/** Cuts `text` at the earliest occurrence of any non-empty string of `stops` (the longest wins a tie). */
export function truncateAtStop(text: string, stops: readonly string[]): TextStop {
  let at = -1;
  let found: string | null = null;
  for (const s of stops) {
    if (s.length === 0) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at || (i === at && s.length > (found as string).length))) {
      at = i;
      found = s;
    }
  }
  return at < 0 ? { text, stop: null } : { text: text.slice(0, at), stop: found };
}

/**
 * How many characters at the end of `text` a streaming server must hold back: the longest suffix of `text`
 * that is a proper prefix of some stop string (it could still become that stop string). 0 when none.
 */
export function stopHoldback(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const s of stops) {
    const max = Math.min(s.length - 1, text.length);
    for (let k = max; k > hold; k--) {
      if (text.endsWith(s.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}
