/**
 * Learning-rate schedule shared by the policy and the token reward model (docs/OREAL.md: cosine to a floor).
 *
 * @module
 */

/** Parameters of {@linkcode cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Steps of linear warm-up from lr/warmup to lr (0 for none). */
  warmup: number;
  /** Total number of steps; the rate reaches `minLr` at step `total` and stays there. */
  total: number;
  /** Peak learning rate, reached at the end of warm-up. */
  lr: number;
  /** Final learning rate at the end of the cosine decay. */
  minLr: number;
}

/**
 * Learning rate at 0-based `step`: linear warm-up lr * (step + 1) / warmup for step < warmup, then cosine decay
 * minLr + (lr - minLr) * (1 + cos(pi * progress)) / 2 with progress = (step - warmup) / (total - warmup), held at
 * minLr from step `total` on. Throws on negative or non-finite arguments or warmup > total.
 */
export function cosineSchedule(step: number, options: CosineScheduleOptions): number {
  const { warmup, total, lr, minLr } = options;
  for (
    const [name, v] of [["step", step], ["warmup", warmup], ["total", total], ["lr", lr], ["minLr", minLr]]
  ) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`cosineSchedule: ${name} must be a finite number >= 0, got ${v}`);
    }
  }
  if (warmup > total) throw new RangeError(`cosineSchedule: warmup (${warmup}) exceeds total (${total})`);
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const span = total - warmup;
  const progress = span <= 0 ? 1 : Math.min(1, (step - warmup) / span);
  return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
}
