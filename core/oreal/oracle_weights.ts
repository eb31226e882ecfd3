/**
 * Oracle token weights (the `oreal-oracle` ablation row): what a perfect token reward model would give on a
 * task whose gold chain locates a wrong response's first wrong token.
 *
 * @module
 */

/**
 * omega for a response of `length` tokens: all 1 on a correct response; on a wrong response 0 on the tokens
 * before its first wrong token `firstWrong` and 1 from it on (all 1 when `firstWrong` is null, i.e. unknown).
 * Throws on a negative length or a first wrong token outside [0, length].
 */
export function oracleWeights(length: number, correct: boolean, firstWrong: number | null): Float32Array {
  if (!Number.isInteger(length) || length < 0) {
    throw new RangeError(`oracleWeights: length must be a non-negative integer, got ${length}`);
  }
  const omega = new Float32Array(length).fill(1);
  if (correct || firstWrong === null) return omega;
  if (!Number.isInteger(firstWrong) || firstWrong < 0 || firstWrong > length) {
    throw new RangeError(`oracleWeights: first wrong token ${firstWrong} is outside [0, ${length}]`);
  }
  omega.fill(0, 0, firstWrong);
  return omega;
}
