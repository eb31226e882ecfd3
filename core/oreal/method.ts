/**
 * The training methods the trainer runs through one code path (docs/OREAL.md, "Baselines"), and their coefficients.
 *
 * @module
 */

import type { WeightMode } from "./token_weights.ts";

/**
 * The methods: OREAL; OREAL with oracle token weights from a generated problem's gold chain (a bound on what
 * token weighting can add); OREAL without the token reward model; and the GRPO, REINFORCE (±1 rewards, and the
 * paper's 0/1 rewards) and RFT baselines.
 */
export type Method =
  | "oreal"
  | "oreal-oracle"
  | "oreal-no-rm"
  | "grpo"
  | "reinforce"
  | "reinforce-01"
  | "rft";

/** Every method name, in the order of docs/OREAL.md's table with the bounding rows beside their neighbours. */
export const METHODS: readonly Method[] = [
  "oreal",
  "oreal-oracle",
  "oreal-no-rm",
  "grpo",
  "reinforce",
  "reinforce-01",
  "rft",
];

/** True for the methods that train on one correct and one wrong response per mixed prompt (OREAL's loss). */
export function isOrealLoss(method: Method): boolean {
  return method === "oreal" || method === "oreal-oracle" || method === "oreal-no-rm";
}

/** Method and coefficients of the policy loss (docs/OREAL.md step 7). */
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
 * The defaults of docs/OREAL.md for `method`: positiveFactor 1.0, negativeFactor 0.5, klCoef 0.01, posMultAdv true,
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
