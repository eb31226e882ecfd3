import { assertEquals } from "@std/assert";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { randInt } from "../gpu/cpu/testing.ts";
import { presetConfig } from "./config.ts";
import { createModel } from "./model.ts";

// The CPU backend splits matmuls over threads by output tiles, and every output's reduction runs in the same
// order whatever the split: a model trained on 1 thread and on 3 threads must see the same losses.
Deno.test("model: a few training steps on 1 and on 3 CPU threads give the same losses", async () => {
  const config = presetConfig("tiny", { vocabSize: 20 });
  const [B, T] = [4, 48];
  const tokens = randInt(3, B * T, 20);
  const mask = new Float32Array(B * T).map((_, i) => (i % T < T - 1 ? 1 : 0));
  const n = mask.reduce((a, b) => a + b, 0);
  const coeffs = mask.map((m) => -m / n);
  const losses: number[][] = [];
  for (const threads of [1, 3]) {
    const backend = createCpuBackend({ threads });
    const model = createModel(config, backend, { seed: 5 });
    const run: number[] = [];
    for (let step = 0; step < 4; step++) {
      model.zeroGrad();
      const { logprobs } = await model.forwardBackward({ tokens, batch: B, seqLen: T, mask }, coeffs);
      run.push(-logprobs.reduce((s, lp, i) => s + lp * mask[i], 0) / n);
      await model.step({ lr: 3e-3, maxGradNorm: 1, weightDecay: 0.01 });
    }
    model.dispose();
    backend.destroy();
    losses.push(run);
  }
  assertEquals(losses[1], losses[0]);
});
