/**
 * The policy loss of every method and its per-token gradient g_t = dLoss/d log pi(y_t) (docs/OREAL.md step 7), which
 * is all a backend's backward pass needs.
 *
 * @module
 */

import { isMethod, isOrealLoss, type MethodConfig, METHODS } from "./method.ts";
import { tokenWeights } from "./token_weights.ts";

/** One response of the update batch, as the policy and reference models scored it. */
export interface PolicySample {
  /** The verdict on the response. */
  correct: boolean;
  /**
   * Per method: oreal / oreal-oracle / oreal-no-rm: the group advantage (A+ > 0 for correct, A- < 0 for wrong
   * responses, RLOO over all K by default); grpo: the GRPO advantage A_i; reinforce: the reward r_i (±1);
   * reinforce-01: the reward (1 or 0); rft: ignored.
   * {@linkcode updateSamples} returns exactly this value.
   */
  advantage: number;
  /** lp_t = log pi_theta(y_t) for each response token, under the policy being updated. */
  logprobs: Float32Array;
  /** ref_t = log pi_ref(y_t) under the frozen reference (SFT) model; same length. */
  refLogprobs: Float32Array;
  /** Token RM scores w_t (before this step's RM update); "oreal" needs them or `omega`; others ignore them. */
  rmScores?: Float32Array;
  /**
   * Explicit token weights omega_t in [0, 1] (omega+ on a correct response, omega- on a wrong one), replacing
   * the weights "oreal" derives from `rmScores`; required by "oreal-oracle", ignored by the other methods.
   */
  omega?: Float32Array;
  /**
   * Log-probs under the policy that sampled the response, the stop-gradient term of the importance ratio
   * exp(lp_t - behaviour_t) of the policy-gradient terms. Default: `logprobs` itself (on-policy, ratio 1).
   */
  behaviourLogprobs?: Float32Array;
}

/** Result of {@linkcode tokenCoefficients}. */
export interface TokenCoefficients {
  /** The total loss: parts.positive + parts.negative + parts.kl. */
  loss: number;
  /**
   * The loss split into terms. For the OREAL methods and rft: the positive and negative terms of docs/OREAL.md;
   * for grpo and reinforce: the policy-gradient term of correct (positive) and of wrong (negative) responses.
   */
  parts: { positive: number; negative: number; kl: number };
  /** dLogp[i][t] = dLoss/d lp_t of sample i. */
  dLogp: Float32Array[];
}

function checkArray(i: number, name: string, a: unknown, length: number): Float32Array {
  if (!(a instanceof Float32Array)) {
    throw new TypeError(`tokenCoefficients: sample ${i}: ${name} is not a Float32Array`);
  }
  if (a.length !== length) {
    throw new RangeError(
      `tokenCoefficients: sample ${i}: ${name} has ${a.length} tokens, logprobs has ${length}`,
    );
  }
  for (let t = 0; t < a.length; t++) {
    if (!Number.isFinite(a[t])) {
      throw new RangeError(`tokenCoefficients: sample ${i}: ${name}[${t}] is not finite (${a[t]})`);
    }
  }
  return a;
}

/** The RM weights a sample's verdict uses: omega+ for a correct response, omega- for a wrong one. */
function omegaFromScores(s: PolicySample, config: MethodConfig): Float32Array {
  const w = tokenWeights(s.rmScores as Float32Array, config.weightMode);
  return s.correct ? w.positive : w.negative;
}

function checkConfig(config: MethodConfig): void {
  if (!isMethod(config.method)) {
    throw new RangeError(
      `tokenCoefficients: unknown method "${config.method}" (expected one of ${METHODS.join(", ")})`,
    );
  }
  for (const key of ["positiveFactor", "negativeFactor", "klCoef"] as const) {
    if (!Number.isFinite(config[key])) {
      throw new RangeError(`tokenCoefficients: config.${key} must be finite, got ${config[key]}`);
    }
  }
}

/**
 * Loss and per-token gradient of the update batch for `config.method` (docs/OREAL.md step 7 and the baselines'
 * table). N+, N- and N are the numbers of response tokens of correct, wrong and all samples of the batch; a
 * term whose normaliser is 0 contributes 0. With lp the policy log-probs, b the behaviour log-probs (default lp)
 * and omega the token weights (from `rmScores` for "oreal", 1 otherwise):
 * - oreal / oreal-oracle / oreal-no-rm: correct: (f+/N+) A' sum_t omega+_t (-lp_t) with A' = A (posMultAdv)
 *   or 1; wrong: -(f-/N-) A sum_t exp(lp_t - b_t) omega-_t. omega is `omega` when given, else (oreal) the
 *   weights of `rmScores`, and 1 for oreal-no-rm.
 * - grpo / reinforce / reinforce-01: -(1/N) A sum_t exp(lp_t - b_t) (A = GRPO advantage or reward).
 * - rft: (1/N+) sum_t (-lp_t); only correct samples may be passed.
 * - every method adds (beta/N) sum_t (e^(ref_t - lp_t) - (ref_t - lp_t) - 1) over all tokens.
 * An empty batch gives loss 0. Throws, naming the sample, on non-finite numbers, mismatched lengths, a missing
 * `rmScores`/`omega` for "oreal", a missing `omega` for "oreal-oracle", an omega outside [0, 1], or a wrong
 * sample passed to "rft".
 */
export function tokenCoefficients(samples: PolicySample[], config: MethodConfig): TokenCoefficients {
  checkConfig(config);
  const { method } = config;
  let nPos = 0;
  let nNeg = 0;
  samples.forEach((s, i) => {
    if (!(s.logprobs instanceof Float32Array)) {
      throw new TypeError(`tokenCoefficients: sample ${i}: logprobs is not a Float32Array`);
    }
    const n = s.logprobs.length;
    checkArray(i, "logprobs", s.logprobs, n);
    checkArray(i, "refLogprobs", s.refLogprobs, n);
    if (s.behaviourLogprobs !== undefined) checkArray(i, "behaviourLogprobs", s.behaviourLogprobs, n);
    if (method === "oreal" || method === "oreal-oracle") {
      if (s.omega !== undefined) {
        checkArray(i, "omega", s.omega, n);
        for (let t = 0; t < n; t++) {
          if (s.omega[t] < 0 || s.omega[t] > 1) {
            throw new RangeError(
              `tokenCoefficients: sample ${i}: omega[${t}] = ${s.omega[t]} is outside [0, 1]`,
            );
          }
        }
      } else if (method === "oreal-oracle") {
        throw new RangeError(`tokenCoefficients: sample ${i}: "oreal-oracle" needs omega`);
      } else if (s.rmScores === undefined) {
        throw new RangeError(`tokenCoefficients: sample ${i}: "oreal" needs rmScores or omega`);
      } else checkArray(i, "rmScores", s.rmScores, n);
    }
    if (!Number.isFinite(s.advantage)) {
      throw new RangeError(`tokenCoefficients: sample ${i}: advantage is not finite (${s.advantage})`);
    }
    if (method === "rft" && !s.correct) {
      throw new RangeError(`tokenCoefficients: sample ${i}: "rft" trains on correct responses only`);
    }
    if (s.correct) nPos += n;
    else nNeg += n;
  });
  const nAll = nPos + nNeg;
  const parts = { positive: 0, negative: 0, kl: 0 };
  const dLogp = samples.map((s) => {
    const lp = s.logprobs;
    const n = lp.length;
    const g = new Float32Array(n);
    const b = s.behaviourLogprobs ?? lp;
    let term = 0;
    if (isOrealLoss(method)) {
      const weights = method === "oreal-no-rm" ? null : s.omega ?? omegaFromScores(s, config);
      if (s.correct) {
        const c = (config.positiveFactor / nPos) * (config.posMultAdv ? s.advantage : 1);
        for (let t = 0; t < n; t++) {
          const w = weights ? weights[t] : 1;
          term += c * w * -lp[t];
          g[t] = -c * w;
        }
      } else {
        const c = -(config.negativeFactor / nNeg) * s.advantage;
        for (let t = 0; t < n; t++) {
          const w = weights ? weights[t] : 1;
          const ratio = Math.exp(lp[t] - b[t]);
          term += c * ratio * w;
          g[t] = c * ratio * w;
        }
      }
    } else if (method === "rft") {
      const c = 1 / nPos;
      for (let t = 0; t < n; t++) {
        term += c * -lp[t];
        g[t] = -c;
      }
    } else {
      const c = -s.advantage / nAll;
      for (let t = 0; t < n; t++) {
        const ratio = Math.exp(lp[t] - b[t]);
        term += c * ratio;
        g[t] = c * ratio;
      }
    }
    if (s.correct) parts.positive += term;
    else parts.negative += term;
    if (config.klCoef !== 0) {
      const k = config.klCoef / nAll;
      for (let t = 0; t < n; t++) {
        const e = Math.exp(s.refLogprobs[t] - lp[t]);
        parts.kl += k * (e - (s.refLogprobs[t] - lp[t]) - 1);
        g[t] += k * (1 - e);
      }
    }
    return g;
  });
  return { loss: parts.positive + parts.negative + parts.kl, parts, dLogp };
}
