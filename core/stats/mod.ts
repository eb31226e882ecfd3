/**
 * Statistics of the reports: confidence intervals of proportions, means, paired differences and seed means,
 * and ROC AUC.
 *
 * @module
 */

export {
  type Interval,
  meanInterval,
  pairedDifferenceInterval,
  seedInterval,
  wilsonInterval,
  Z95,
} from "./intervals.ts";
export { rocAuc } from "./auc.ts";
