import { assert } from "@std/assert";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { loadCheckpoint } from "./checkpoint.ts";

// Fixture written by testdata/make_hf_qwen2_tiny.py: a bf16 Qwen2 checkpoint in HF naming (written by Python,
// not by our writer) and the logits of a float64 transcription of transformers' Qwen2 forward.
const dir = new URL("./testdata/hf_qwen2_tiny", import.meta.url).pathname;
const expected: { tokens: number[][]; logits: number[][][] } = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/hf_qwen2_tiny_expected.json", import.meta.url)),
);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("HF Qwen2 reference: logits and log-probabilities of a Python-written checkpoint match", async () => {
  const be = createCpuBackend();
  const { model } = await loadCheckpoint(dir, be);
  const B = expected.tokens.length, T = expected.tokens[0].length, V = model.config.vocab_size;
  const tokens = Int32Array.from(expected.tokens.flat());
  const cache = model.createKvCache(B, T);
  const logits = await be.download(
    model.lmLogits(model.forwardCached(cache, tokens, T, new Int32Array(B)), B * T),
  );
  const want = expected.logits.flat(2);
  const diff = maxAbsDiff(logits, want);
  assert(diff < 2e-4, `max |logit difference| ${diff}`);
  // The training path (logprobs with a mask) agrees with the log-softmax of the reference logits.
  const mask = new Float32Array(B * T).map((_, i) => (i % T === T - 1 ? 0 : 1));
  const { logprobs } = await model.logprobs({ tokens, batch: B, seqLen: T, mask });
  const ref = new Float32Array(B * T);
  for (let r = 0; r < B * T; r++) {
    if (!mask[r]) continue;
    const z = want.slice(r * V, (r + 1) * V);
    const mx = Math.max(...z);
    ref[r] = z[tokens[r + 1]] - mx - Math.log(z.reduce((s, x) => s + Math.exp(x - mx), 0));
  }
  assert(maxAbsDiff(logprobs, ref) < 2e-4, `max |logprob difference| ${maxAbsDiff(logprobs, ref)}`);
});
