/**
 * The token-level reward model's forms, behind one interface: token scores w_t for the responses of a batch,
 * and the gradient step from dLoss/dw_t.
 *
 * - "scalar" (the released trainer): a copy of the SFT model whose LM head is replaced by a zero-initialised
 *   linear layer with one output; w_t is read from the hidden state that predicts token t.
 * - "logratio": a copy of the SFT model with its LM head, w_t = beta (log pi_rm(y_t) - log pi_ref(y_t)) against
 *   the frozen SFT reference (the implicit token reward of PRIME, Cui et al. 2025); it starts at 0.
 * - "likelihood": the same LM copy scored by its own token log-likelihood, w_t = beta log pi_rm(y_t) + b, with a
 *   learned bias b set at the first batch so that scores start centred. At the start it ranks a response by how
 *   likely the SFT model found each of its tokens (a wrong step is usually an unlikely token), and the outcome
 *   labels then train it further.
 *
 * The LM forms put the gradient through the softmax, where it is largest on the tokens the model found
 * unlikely, so they can single out a wrong step from outcome labels far sooner than a fresh scalar head.
 *
 * @module
 */

import { ADAMW_DEFAULTS, type Model } from "../model/model.ts";
import { packResponses, type Sequence, type TokenBatch, unpackResponses } from "./batch.ts";

/** The form of the token RM. */
export type RmHead = "scalar" | "logratio" | "likelihood";

/** Every form, for argument checks. */
export const RM_HEADS: readonly RmHead[] = ["scalar", "logratio", "likelihood"];

/** The learned bias of the "likelihood" form with its Adam moments (null until the first batch sets it). */
export interface RmBiasState {
  value: number;
  m: number;
  v: number;
  t: number;
}

/** A token reward model: per-token scores of a batch's responses, their backward pass and the update. */
export interface TokenRm {
  readonly head: RmHead;
  /** The model being trained. */
  readonly model: Model;
  /** w_t for each response token of `seqs` (packed as `batch`). */
  scores(batch: TokenBatch, seqs: readonly Sequence[]): Promise<Float32Array[]>;
  /** Zeroes the gradients, then accumulates those of `sum_t dScores[i][t] * w_t`. */
  backward(batch: TokenBatch, seqs: readonly Sequence[], dScores: readonly Float32Array[]): Promise<void>;
  /** One AdamW step of everything the RM learns. */
  step(opts: { lr: number; weightDecay: number; maxGradNorm: number }): Promise<void>;
  /** The bias of the "likelihood" form (null for the others or before the first batch), for checkpoints. */
  bias(): RmBiasState | null;
}

/**
 * Wraps `model` as a token RM of form `head`: "scalar" needs a model with a scalar head; the LM forms one with
 * an LM head, the frozen `reference` ("logratio") and a positive `beta`. `bias` restores the "likelihood"
 * form's bias. Throws on a mismatch.
 */
export function tokenRm(
  head: RmHead,
  model: Model,
  reference: Model,
  beta: number,
  bias: RmBiasState | null = null,
): TokenRm {
  if (head === "scalar") {
    if (model.head !== "scalar") throw new RangeError('tokenRm: "scalar" needs a model with a scalar head');
    return {
      head,
      model,
      scores: async (batch, seqs) => unpackResponses(await model.scores(batch), seqs, batch.seqLen),
      backward: (batch, seqs, dScores) => {
        model.zeroGrad();
        model.scoresBackward(batch, packResponses(dScores, seqs, batch.seqLen));
        return Promise.resolve();
      },
      step: async (opts) => void await model.step(opts),
      bias: () => null,
    };
  }
  if (!RM_HEADS.includes(head)) {
    throw new RangeError(`tokenRm: unknown head "${head}" (expected ${RM_HEADS.join(", ")})`);
  }
  if (model.head !== "lm") throw new RangeError(`tokenRm: "${head}" needs a model with an LM head`);
  if (!(beta > 0)) throw new RangeError(`tokenRm: beta must be positive, got ${beta}`);
  let b: RmBiasState | null = bias ? { ...bias } : null;
  let biasGrad = 0;
  return {
    head,
    model,
    scores: async (batch, seqs) => {
      const rm = unpackResponses((await model.logprobs(batch)).logprobs, seqs, batch.seqLen);
      if (head === "logratio") {
        const ref = unpackResponses((await reference.logprobs(batch)).logprobs, seqs, batch.seqLen);
        return rm.map((lp, i) => lp.map((v, t) => beta * (v - ref[i][t])));
      }
      if (b === null) {
        // Centre the first batch: the mean of its responses' mean token log-likelihood scores 0.
        const means = rm.map((lp) => lp.length ? lp.reduce((x, y) => x + y, 0) / lp.length : 0);
        b = { value: -beta * means.reduce((x, y) => x + y, 0) / Math.max(1, means.length), m: 0, v: 0, t: 0 };
      }
      const shift = b.value;
      return rm.map((lp) => lp.map((v) => beta * v + shift));
    },
    backward: async (batch, seqs, dScores) => {
      // w_t = beta lp_t (+ ...): dL/dlp_t = beta dL/dw_t, which is what the LM backward takes.
      model.zeroGrad();
      biasGrad = 0;
      for (const d of dScores) for (const g of d) biasGrad += g;
      await model.forwardBackward(
        batch,
        packResponses(dScores.map((d) => d.map((g) => beta * g)), seqs, batch.seqLen),
      );
    },
    step: async (opts) => {
      await model.step(opts);
      if (head === "likelihood" && b !== null) {
        // Adam on the scalar bias, with the same learning rate and moments as the model's.
        const { beta1, beta2, eps } = ADAMW_DEFAULTS;
        b.t++;
        b.m = beta1 * b.m + (1 - beta1) * biasGrad;
        b.v = beta2 * b.v + (1 - beta2) * biasGrad * biasGrad;
        const mHat = b.m / (1 - beta1 ** b.t), vHat = b.v / (1 - beta2 ** b.t);
        b.value -= opts.lr * mHat / (Math.sqrt(vHat) + eps);
      }
    },
    bias: () => (b ? { ...b } : null),
  };
}
