/**
 * The per-verification budget: a deadline checked cooperatively (JavaScript cannot be interrupted) and
 * size limits that keep hostile input from blowing up parsing or evaluation.
 *
 * @module
 */

/** Thrown when the time budget of a verification is spent. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/** Thrown when an input exceeds a size limit (length, nesting depth, node count, exponent). */
export class LimitError extends Error {
  override name = "LimitError";
}

/** Hard limits applied to every verification. */
export const LIMITS = {
  /** Longest response scanned for an answer (longer ones are cut to their last part). */
  maxResponseChars: 200_000,
  /** Longest extracted answer that is parsed. */
  maxAnswerChars: 2_000,
  /** Deepest bracket/operator nesting the parser accepts. */
  maxDepth: 64,
  /** Most expression nodes one answer may build. */
  maxNodes: 4_000,
  /** Largest integer exponent evaluated exactly (bigger ones fall back to floating point). */
  maxExactExponent: 4_096,
  /** Most bits an exact rational may grow to before exact arithmetic gives up. */
  maxExactBits: 20_000,
} as const;

/** A deadline plus a node counter shared by all stages of one verification. */
export class Budget {
  #deadline: number;
  #ticks = 0;
  /** Nodes built so far (checked against {@linkcode LIMITS.maxNodes}). */
  nodes = 0;

  /** Starts a budget of `timeoutMs` milliseconds from now. */
  constructor(timeoutMs: number) {
    this.#deadline = performance.now() + timeoutMs;
  }

  /** Throws {@linkcode TimeoutError} once the deadline has passed; cheap enough for inner loops. */
  tick(): void {
    if ((++this.#ticks & 63) === 0 && performance.now() > this.#deadline) {
      throw new TimeoutError("time budget exceeded");
    }
  }

  /** Checks the deadline now, whatever the tick count. */
  check(): void {
    if (performance.now() > this.#deadline) throw new TimeoutError("time budget exceeded");
  }

  /** Counts one more expression node and enforces the node limit. */
  node(): void {
    if (++this.nodes > LIMITS.maxNodes) throw new LimitError(`more than ${LIMITS.maxNodes} nodes`);
    this.tick();
  }
}

/** A budget that never runs out, for callers (tests, tools) that parse outside `verify`. */
export function unlimitedBudget(): Budget {
  return new Budget(Number.POSITIVE_INFINITY);
}
