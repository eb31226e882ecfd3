import { assert, assertEquals } from "@std/assert";
import { createCpuBackend } from "../gpu/cpu/mod.ts";
import { loadCheckpoint } from "./checkpoint.ts";

// Folders written by transformers' save_pretrained (testdata/make_hf_saved.py, transformers 4.57 and 5.18) and
// transformers' own float32 logits for them. Version 5 keeps the rope base (1e6) in rope_parameters only.
const root = new URL("./testdata/hf_saved/", import.meta.url).pathname;
const CASES = [
  "v5_tied_bf16",
  "v5_untied_f32",
  "v5_tied_f16",
  "v4_untied_bf16",
  "v4_tied_f32",
  "v4_untied_f16",
];

for (const name of CASES) {
  Deno.test(`transformers-saved folder ${name}: logits within 1e-4 of transformers'`, async () => {
    const expected: { tokens: number[][]; logits: number[][][] } = JSON.parse(
      await Deno.readTextFile(`${root}/${name}_expected.json`),
    );
    const be = createCpuBackend();
    const { model } = await loadCheckpoint(`${root}/${name}`, be);
    assertEquals(model.config.rope_theta, 1e6);
    assertEquals(model.config.tie_word_embeddings, name.includes("_tied"));
    const B = expected.tokens.length, T = expected.tokens[0].length;
    const cache = model.createKvCache(B, T);
    const tokens = Int32Array.from(expected.tokens.flat());
    const logits = await be.download(
      model.lmLogits(model.forwardCached(cache, tokens, T, new Int32Array(B)), B * T),
    );
    const want = expected.logits.flat(2);
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(logits[i] - want[i]));
    assert(diff < 1e-4, `max |logit difference| ${diff}`);
    model.dispose();
  });
}
