/**
 * Group-relative advantages for outcome rewards (docs/OREAL.md step 3). Both estimators take the rewards of all K
 * responses to one prompt, before any filtering, and return one advantage per response in the same order.
 *
 * @module
 */

function checkRewards(name: string, rewards: readonly number[]): void {
  if (rewards.length < 2) {
    throw new RangeError(`${name}: need at least 2 rewards per group (K >= 2), got ${rewards.length}`);
  }
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new RangeError(`${name}: reward ${i} is not a finite number (${r})`);
  });
}

/**
 * Leave-one-out (RLOO) advantages: A_i = r_i - (sum_j r_j - r_i) / (K - 1), OREAL's default. With ±1 rewards
 * and pass rate p this gives A+ = 2K(1-p)/(K-1) for correct and A- = -2Kp/(K-1) for wrong responses.
 * Throws on fewer than two rewards or a non-finite reward (naming its index).
 */
export function rlooAdvantages(rewards: number[]): number[] {
  checkRewards("rlooAdvantages", rewards);
  const k = rewards.length;
  let sum = 0;
  for (const r of rewards) sum += r;
  return rewards.map((r) => r - (sum - r) / (k - 1));
}

/**
 * GRPO advantages: A_i = (r_i - mean r) / (std r + eps), where std is the sample standard deviation
 * (divided by K - 1, as torch.std). All-equal rewards give zeros. Throws on fewer than two rewards or a
 * non-finite reward (naming its index).
 */
export function grpoAdvantages(rewards: number[], eps = 1e-8): number[] {
  checkRewards("grpoAdvantages", rewards);
  if (!(eps >= 0)) throw new RangeError(`grpoAdvantages: eps must be >= 0, got ${eps}`);
  const k = rewards.length;
  let sum = 0;
  for (const r of rewards) sum += r;
  const mean = sum / k;
  let sq = 0;
  for (const r of rewards) sq += (r - mean) * (r - mean);
  const std = Math.sqrt(sq / (k - 1));
  return rewards.map((r) => (r - mean) / (std + eps));
}
