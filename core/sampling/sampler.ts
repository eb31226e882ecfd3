/**
 * Logit processing for sampling one token: greedy argmax, temperature, top-k, top-p (nucleus), and a
 * log-softmax. Pure TypeScript with no I/O, shared by the trainer's decoder and the edge server.
 *
 * The sampling distribution is the one of Hugging Face `generate`: logits are divided by the temperature,
 * the top-k tokens are kept, then the smallest prefix of them (sorted by probability, highest first) whose
 * probability mass reaches `topP`, and the kept probabilities are renormalised. Tokens with a logit of
 * `-Infinity` (masked) are never drawn. Ties are broken by the lower token id, so the result depends only on
 * the logits and the random stream.
 *
 * @module
 */

import type { Rng } from "../random/mod.ts";

/** How to pick the next token from a row of logits. */
export interface SamplingParams {
  /** Softmax temperature; 0 means greedy (argmax). Must be finite and >= 0. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 (the default) keeps every token. */
  topP?: number;
  /** Keep only the `topK` most likely tokens; 0 (the default) keeps every token. */
  topK?: number;
}

/** {@linkcode SamplingParams} with the defaults filled in and the values checked. */
export interface ResolvedSamplingParams {
  /** Softmax temperature; 0 means greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
  /** Number of tokens kept by top-k; 0 keeps all. */
  topK: number;
}

/** Checks sampling parameters and fills in defaults; throws a RangeError naming the bad field. */
export function resolveSamplingParams(params: SamplingParams): ResolvedSamplingParams {
  const { temperature, topP = 1, topK = 0 } = params;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`sampling: temperature must be a finite number >= 0, got ${temperature}`);
  }
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`sampling: topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) {
    throw new RangeError(`sampling: topK must be an integer >= 0, got ${topK}`);
  }
  return { temperature, topP, topK };
}

function badLogit(value: number, index: number): Error {
  return new RangeError(`sampling: logit ${index} is ${value}; logits must be finite or -Infinity`);
}

/**
 * Index of the largest logit in `logits[offset, offset + length)`, relative to `offset`; the lowest index wins
 * ties. Throws on NaN or +Infinity, and when every logit is -Infinity.
 */
export function argmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
  checkRange(logits.length, offset, length);
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const x = logits[offset + i];
    if (!(x < Infinity)) throw badLogit(x, i); // NaN or +Infinity
    if (x > bestValue) {
      bestValue = x;
      best = i;
    }
  }
  if (best < 0) throw new RangeError("sampling: every logit is -Infinity, no token can be chosen");
  return best;
}

function checkRange(total: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length <= 0) {
    throw new RangeError(`sampling: bad row offset ${offset} / length ${length}`);
  }
  if (offset + length > total) {
    throw new RangeError(`sampling: row [${offset}, ${offset + length}) is outside ${total} logits`);
  }
}

/**
 * Log-softmax of `logits[offset, offset + length)` into `out` (a new array by default), computed in double
 * precision. `-Infinity` logits give `-Infinity`; NaN and +Infinity throw.
 */
export function logSoftmax(
  logits: ArrayLike<number>,
  out: Float32Array = new Float32Array(logits.length),
  offset = 0,
  length = logits.length - offset,
): Float32Array {
  checkRange(logits.length, offset, length);
  if (out.length < length) throw new RangeError(`logSoftmax: out has ${out.length} < ${length} entries`);
  const max = logits[offset + argmax(logits, offset, length)];
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.exp(logits[offset + i] - max);
  const logZ = max + Math.log(sum);
  for (let i = 0; i < length; i++) out[i] = logits[offset + i] - logZ;
  return out;
}

/**
 * A sampler for rows of `vocabSize` logits with fixed parameters. It owns its scratch buffers, so drawing a
 * token allocates nothing: make one per decoding loop and call {@linkcode TokenSampler.sample} per row.
 *
 * The draw walks the kept tokens in a fixed order (token id order without top-k / top-p, best first with them)
 * and picks the first whose cumulative weight exceeds `u * kept mass`, `u` being one `rng.next()`.
 */
export class TokenSampler {
  /** The checked parameters in use. */
  readonly params: ResolvedSamplingParams;
  readonly #vocabSize: number;
  /** Candidate token ids. */
  readonly #ids: Int32Array;
  /** Unnormalised probabilities, indexed by token id. */
  readonly #weights: Float64Array;
  /** Scratch values for the top-k selection. */
  readonly #values: Float64Array;
  /** Scratch ids for merging (allocated on the first sort). */
  #spare: Int32Array | null = null;

  /** Makes a sampler for rows of `vocabSize` logits. */
  constructor(vocabSize: number, params: SamplingParams) {
    if (!Number.isInteger(vocabSize) || vocabSize <= 0) {
      throw new RangeError(`TokenSampler: vocabSize must be a positive integer, got ${vocabSize}`);
    }
    this.params = resolveSamplingParams(params);
    this.#vocabSize = vocabSize;
    this.#ids = new Int32Array(vocabSize);
    this.#weights = new Float64Array(vocabSize);
    this.#values = new Float64Array(this.params.topK > 0 ? vocabSize : 0);
  }

  /**
   * Draws a token id from `logits[offset, offset + vocabSize)` (one random number per draw, none when greedy).
   * Throws on NaN or +Infinity logits and when every logit is -Infinity.
   */
  sample(logits: ArrayLike<number>, rng: Rng, offset = 0): number {
    const v = this.#vocabSize;
    const { temperature, topP, topK } = this.params;
    const best = argmax(logits, offset, v);
    if (temperature === 0) return best;
    const max = logits[offset + best];
    const invT = 1 / temperature;
    const w = this.#weights, ids = this.#ids;
    if (topK === 0 && topP === 1) {
      // Every token, in id order; masked ones weigh exp(-Infinity) = 0 and are never picked.
      let total = 0, last = best;
      for (let i = 0; i < v; i++) {
        const x = Math.exp((logits[offset + i] - max) * invT);
        w[i] = x;
        total += x;
      }
      let u = rng.next() * total;
      for (let i = 0; i < v; i++) {
        if (w[i] === 0) continue;
        last = i;
        u -= w[i];
        if (u < 0) return i;
      }
      return last; // rounding left u a hair above zero: the last token with weight
    }
    let n: number;
    let total = 0;
    if (topK > 0) {
      n = this.#topK(logits, offset, topK);
      for (let j = 0; j < n; j++) {
        const x = Math.exp((logits[offset + ids[j]] - max) * invT);
        w[ids[j]] = x;
        total += x;
      }
    } else {
      for (let i = 0; i < v; i++) {
        const x = Math.exp((logits[offset + i] - max) * invT);
        w[i] = x;
        total += x;
      }
      n = this.#aboveNucleus(logits, offset, total * topP);
    }
    // ids[0, n) are sorted best first; keep the smallest prefix whose mass reaches topP * total.
    if (topP < 1) {
      const target = topP * total;
      let cum = 0;
      for (let j = 0; j < n; j++) {
        cum += w[ids[j]];
        if (cum >= target) {
          n = j + 1;
          break;
        }
      }
    }
    let kept = 0;
    for (let j = 0; j < n; j++) kept += w[ids[j]];
    let u = rng.next() * kept;
    for (let j = 0; j < n - 1; j++) {
      u -= w[ids[j]];
      if (u < 0) return ids[j];
    }
    return ids[n - 1];
  }

  /**
   * Puts in ids[0, n) the tokens whose weight is above a threshold that leaves at least `target` mass, sorted
   * best first, and returns n. Every token of the nucleus outranks every token outside it, so the nucleus lies
   * among them; starting high and lowering the threshold keeps the sort short.
   */
  #aboveNucleus(logits: ArrayLike<number>, offset: number, target: number): number {
    const w = this.#weights, ids = this.#ids, v = this.#vocabSize;
    let threshold = 1 / 64; // relative to the top token's weight, 1
    for (;;) {
      let m = 0, mass = 0;
      for (let i = 0; i < v; i++) {
        const x = w[i];
        if (x >= threshold && x > 0) {
          ids[m++] = i;
          mass += x;
        }
      }
      if (mass >= target || threshold === 0) return this.#sortIds(logits, offset, m);
      threshold = threshold < 1e-300 ? 0 : threshold / 64;
    }
  }

  /** Puts the (at most) `k` best finite tokens in ids[0, n), sorted best first, and returns n. */
  #topK(logits: ArrayLike<number>, offset: number, k: number): number {
    const ids = this.#ids, vals = this.#values, v = this.#vocabSize;
    let finite = 0;
    for (let i = 0; i < v; i++) {
      const x = logits[offset + i];
      if (x > -Infinity) vals[finite++] = x;
    }
    // The k-th largest value; tokens above it are in, ties at it are taken in id order.
    const kth = finite <= k ? -Infinity : quickselectDescending(vals, finite, k - 1);
    let above = 0;
    for (let i = 0; i < v; i++) if (logits[offset + i] > kth) ids[above++] = i;
    let n = above;
    for (let i = 0; i < v && n < k; i++) if (logits[offset + i] === kth) ids[n++] = i;
    return this.#sortIds(logits, offset, n);
  }

  /** Sorts ids[0, n) best first (higher logit, then lower id) and returns n. */
  #sortIds(logits: ArrayLike<number>, offset: number, n: number): number {
    this.#spare ??= new Int32Array(this.#vocabSize);
    sortBestFirst(this.#ids, this.#spare, n, logits, offset);
    return n;
  }
}

/** Runs of this many ids are insertion-sorted before the merge passes of {@linkcode sortBestFirst}. */
const RUN = 16;

/**
 * Sorts ids[0, n) best first: higher `logits[offset + id]`, then lower id (a total order, so the result is the
 * one any correct sort gives). Insertion-sorted runs, then bottom-up merges through `spare`: a typed-array sort
 * with a comparator callback costs several times more per row of a decoding step.
 */
function sortBestFirst(
  ids: Int32Array,
  spare: Int32Array,
  n: number,
  logits: ArrayLike<number>,
  offset: number,
): void {
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const id = ids[i], x = logits[offset + id];
      let j = i - 1;
      for (; j >= lo; j--) {
        const y = logits[offset + ids[j]];
        if (y > x || (y === x && ids[j] < id)) break;
        ids[j + 1] = ids[j];
      }
      ids[j + 1] = id;
    }
  }
  let src = ids, dst = spare;
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        const a = src[i], b = src[j], x = logits[offset + a], y = logits[offset + b];
        // Left wins ties in value only when its id is lower; equal ids cannot occur.
        if (x > y || (x === y && a < b)) {
          dst[o++] = a;
          i++;
        } else {
          dst[o++] = b;
          j++;
        }
      }
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    [src, dst] = [dst, src];
  }
  if (src !== ids) ids.set(src.subarray(0, n));
}

/** The `r`-th largest (0-based) of `vals[0, n)`, reordering them (Hoare's selection, middle pivot). */
function quickselectDescending(vals: Float64Array, n: number, r: number): number {
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const pivot = vals[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (vals[i] > pivot) i++;
      while (vals[j] < pivot) j--;
      if (i <= j) {
        const t = vals[i];
        vals[i] = vals[j];
        vals[j] = t;
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return vals[r];
  }
  return vals[r];
}

/**
 * Draws one token id from a row of logits (allocates a {@linkcode TokenSampler}; reuse one in loops).
 * Temperature 0 is greedy argmax; otherwise top-k, then top-p, over the tempered softmax.
 */
export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, rng: Rng): number {
  return new TokenSampler(logits.length, params).sample(logits, rng);
}
