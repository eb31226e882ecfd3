/**
 * Seeded pseudo-random numbers shared by every part that must be reproducible (problem generation, pair
 * selection, sampling, initialisation). The generator is sfc32 seeded through splitmix32, so nearby seeds give
 * unrelated streams, and its whole state is four 32-bit words that can be saved and restored.
 *
 * @module
 */

/** A seeded source of uniform numbers. */
export interface Rng {
  /** A uniform number in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** A uniform integer in [0, n). Throws on a non-positive or non-integer `n`. */
  nextInt(n: number): number;
  /** A standard normal sample (Box-Muller). */
  nextNormal(): number;
  /** The generator's state, to resume the same stream later with {@linkcode restoreRng}. */
  state(): [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Creates a generator from an integer seed (any finite number; it is reduced to 32 bits). */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`createRng: seed must be a finite number, got ${seed}`);
  const mix = splitmix32(Math.floor(seed));
  const rng = restoreRng([mix(), mix(), mix(), mix()]);
  // Discard a few outputs so that the seeded state is well mixed before use.
  for (let i = 0; i < 12; i++) rng.next();
  return rng;
}

/** Recreates a generator from a state returned by {@linkcode Rng.state}. */
export function restoreRng(state: readonly [number, number, number, number]): Rng {
  let [a, b, c, d] = state.map((x) => x >>> 0);
  const next32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  const rng: Rng = {
    next: () => next32() / 4294967296,
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n <= 0) {
        throw new RangeError(`nextInt: n must be a positive integer, got ${n}`);
      }
      return Math.floor(rng.next() * n);
    },
    nextNormal(): number {
      const u = 1 - rng.next(); // (0, 1]: log stays finite
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    },
    state: () => [a, b, c, d],
  };
  return rng;
}
