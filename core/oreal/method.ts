/**
 * The training methods the trainer runs through one code path (OREAL.md, "Baselines"), and their coefficients.
 *
 * @module
 */

import type { WeightMode } from "./token_weights.ts";

/** The methods: OREAL, OREAL without the token reward model, and the GRPO / REINFORCE / RFT baselines. */
export type Method = "oreal" | "oreal-no-rm" | "grpo" | "reinforce" | "rft";

/** Every method name, in the order of OREAL.md's table. */
export const METHODS: readonly Method[] = ["oreal", "oreal-no-rm", "grpo", "reinforce", "rft"];

/** Method and coefficients of the policy loss (OREAL.md step 7). */
export interface MethodConfig {
  /** Which loss to build. */
  method: Method;
  /** f+: factor of the positive (behaviour-cloning) term; OREAL methods only. Default 1.0. */
  positiveFactor: number;
  /** f- = eta: factor of the negative (reshaped policy-gradient) term; OREAL methods only. Default 0.5. */
  negativeFactor: number;
  /** beta: coefficient of the k3 KL estimator to the reference, for every method (0 drops it). Default 0.01. */
  klCoef: number;
  /** Multiply the positive term by the advantage A+ (the released trainer does). Default true. */
  posMultAdv: boolean;
  /** How token RM scores become weights ("oreal" only). Default "prefix-mean". */
  weightMode: WeightMode;
}

/** True when `name` is one of {@linkcode METHODS}. */
export function isMethod(name: unknown): name is Method {
  return typeof name === "string" && (METHODS as readonly string[]).includes(name);
}

/**
 * The defaults of OREAL.md for `method`: positiveFactor 1.0, negativeFactor 0.5, klCoef 0.01, posMultAdv true,
 * weightMode "prefix-mean". Throws on an unknown method name.
 */
export function defaultMethodConfig(method: Method): MethodConfig {
  if (!isMethod(method)) {
    throw new RangeError(
      `defaultMethodConfig: unknown method "${method}" (expected one of ${METHODS.join(", ")})`,
    );
  }
  return {
    method,
    positiveFactor: 1.0,
    negativeFactor: 0.5,
    klCoef: 0.01,
    posMultAdv: true,
    weightMode: "prefix-mean",
  };
}
