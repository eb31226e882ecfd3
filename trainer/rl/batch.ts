/**
 * Packs (prompt, response) token sequences into the model's right-padded `TokenBatch`, and moves per-token
 * values between the batch layout (`[B*T]`, value at position t belongs to target token t+1) and one array per
 * response token.
 *
 * @module
 */

import type { TokenBatch } from "../model/batch.ts";

export type { TokenBatch };

/** One sequence: prompt tokens then response tokens (the response may end with the stop token). */
export interface Sequence {
  prompt: ArrayLike<number>;
  response: ArrayLike<number>;
}

/**
 * Packs sequences into a batch of length `max(prompt + response)` padded with `padId`. Throws on an empty list,
 * an empty prompt (position -1 would predict the first response token) or an empty response.
 */
export function packBatch(seqs: readonly Sequence[], padId: number): TokenBatch {
  if (seqs.length === 0) throw new RangeError("packBatch: no sequences");
  let seqLen = 0;
  seqs.forEach((s, i) => {
    if (s.prompt.length === 0) throw new RangeError(`packBatch: sequence ${i} has an empty prompt`);
    if (s.response.length === 0) throw new RangeError(`packBatch: sequence ${i} has an empty response`);
    seqLen = Math.max(seqLen, s.prompt.length + s.response.length);
  });
  const batch = seqs.length;
  const tokens = new Int32Array(batch * seqLen).fill(padId);
  const mask = new Float32Array(batch * seqLen);
  seqs.forEach((s, b) => {
    const row = b * seqLen;
    const p = s.prompt.length;
    for (let i = 0; i < p; i++) tokens[row + i] = s.prompt[i];
    for (let i = 0; i < s.response.length; i++) {
      tokens[row + p + i] = s.response[i];
      mask[row + p + i - 1] = 1;
    }
  });
  return { tokens, batch, seqLen, mask };
}

/** Splits a `[B*T]` per-position array into one array per response token of each sequence. */
export function unpackResponses(
  values: Float32Array,
  seqs: readonly Sequence[],
  seqLen: number,
): Float32Array[] {
  if (values.length !== seqs.length * seqLen) {
    throw new RangeError(`unpackResponses: ${values.length} values for ${seqs.length} x ${seqLen} positions`);
  }
  return seqs.map((s, b) => {
    const start = b * seqLen + s.prompt.length - 1;
    return values.slice(start, start + s.response.length);
  });
}

/** The inverse of {@linkcode unpackResponses}: per-response-token values into `[B*T]`, zero elsewhere. */
export function packResponses(
  values: readonly ArrayLike<number>[],
  seqs: readonly Sequence[],
  seqLen: number,
): Float32Array {
  if (values.length !== seqs.length) {
    throw new RangeError(`packResponses: ${values.length} arrays for ${seqs.length} sequences`);
  }
  const out = new Float32Array(seqs.length * seqLen);
  seqs.forEach((s, b) => {
    if (values[b].length !== s.response.length) {
      throw new RangeError(
        `packResponses: sequence ${b}: ${values[b].length} values, ${s.response.length} tokens`,
      );
    }
    out.set(Array.from(values[b]), b * seqLen + s.prompt.length - 1);
  });
  return out;
}
