/**
 * The token batch the model trains and scores on, its validation, and the per-row arrays derived from it
 * (position ids, next-token targets, the rows whose log-probability counts).
 *
 * @module
 */

/**
 * A right-padded batch of token sequences. The log-probability at position `t` is
 * `log p(tokens[t+1] | tokens[..t])`; `mask[t]` is 1 when that target is a response token that counts, so the
 * last position of each row must have mask 0.
 */
export interface TokenBatch {
  /** `batch * seqLen` token ids, row-major, right-padded. */
  tokens: Int32Array;
  batch: number;
  seqLen: number;
  /** `batch * seqLen`: 1 where position t's target `tokens[t+1]` counts, else 0. */
  mask: Float32Array;
}

/** Arrays derived from a batch for one forward pass. */
export interface BatchRows {
  /** Position id of every row (`t`). */
  positions: Int32Array;
  /** Row indices (b*seqLen + t) whose mask is non-zero, ascending. */
  active: Int32Array;
  /** Next-token target of each active row. */
  targets: Int32Array;
}

/** Throws a descriptive error unless `b` is well-formed for a model with `vocab` tokens and `maxPos` positions. */
export function validateBatch(b: TokenBatch, vocab: number, maxPos: number): void {
  const { batch, seqLen } = b;
  if (!Number.isInteger(batch) || batch <= 0 || !Number.isInteger(seqLen) || seqLen <= 0) {
    throw new RangeError(`batch: batch (${batch}) and seqLen (${seqLen}) must be positive integers`);
  }
  if (seqLen > maxPos) {
    throw new RangeError(`batch: seqLen ${seqLen} exceeds max_position_embeddings ${maxPos}`);
  }
  const n = batch * seqLen;
  if (b.tokens.length !== n) {
    throw new RangeError(`batch: tokens has ${b.tokens.length} entries, expected ${n}`);
  }
  if (b.mask.length !== n) throw new RangeError(`batch: mask has ${b.mask.length} entries, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const t = b.tokens[i];
    if (t < 0 || t >= vocab) {
      throw new RangeError(`batch: token ${t} at ${i} outside the vocabulary [0, ${vocab})`);
    }
  }
  for (let r = 0; r < batch; r++) {
    if (b.mask[r * seqLen + seqLen - 1] !== 0) {
      throw new RangeError(`batch: mask must be 0 at the last position of row ${r} (it has no next token)`);
    }
  }
}

/** The derived per-row arrays of a (validated) batch. */
export function batchRows(b: TokenBatch): BatchRows {
  const n = b.batch * b.seqLen;
  const positions = new Int32Array(n);
  const active: number[] = [];
  for (let i = 0; i < n; i++) {
    positions[i] = i % b.seqLen;
    if (b.mask[i] !== 0) active.push(i);
  }
  const targets = new Int32Array(active.length);
  for (let j = 0; j < active.length; j++) targets[j] = b.tokens[active[j] + 1];
  return { positions, active: Int32Array.from(active), targets };
}
