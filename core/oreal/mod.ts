/**
 * The OREAL algorithm, backend-free (docs/OREAL.md): group advantages, which responses enter the update, token
 * weights from the token reward model, the reward model's loss, the policy loss of OREAL and its baselines with
 * its per-token gradient, and the learning-rate schedule.
 *
 * @module
 */

export { grpoAdvantages, rlooAdvantages } from "./advantages.ts";
export {
  defaultMethodConfig,
  isMethod,
  isOrealLoss,
  type Method,
  type MethodConfig,
  METHODS,
} from "./method.ts";
export { oracleWeights } from "./oracle_weights.ts";
export {
  type GroupOutcome,
  type SelectedPair,
  selectPairs,
  type UpdateSample,
  type UpdateSampleOptions,
  updateSamples,
} from "./select.ts";
export { tokenWeights, type WeightMode } from "./token_weights.ts";
export { rewardModelLoss } from "./reward_model.ts";
export { type PolicySample, type TokenCoefficients, tokenCoefficients } from "./coefficients.ts";
export { cosineSchedule, type CosineScheduleOptions } from "./schedule.ts";
