import { assert, assertEquals } from "@std/assert";
import { VIEW_ALIGN } from "../gpu/backend.ts";
import { presetConfig } from "./config.ts";
import { INIT_STD, initialValues, paramLayout } from "./params.ts";

const cfg = { ...presetConfig("tiny", { vocabSize: 50 }), num_hidden_layers: 2 };
const C = cfg.hidden_size, KV = cfg.num_key_value_heads * (C / cfg.num_attention_heads);

Deno.test("paramLayout: HF names, aligned offsets, tied / untied / scalar heads", () => {
  const tied = paramLayout(cfg, "lm");
  const names = tied.specs.map((s) => s.name);
  assertEquals(names[0], "model.embed_tokens.weight");
  assert(names.includes("model.layers.1.self_attn.q_proj.bias"));
  assert(!names.includes("model.layers.1.self_attn.o_proj.bias"));
  assertEquals(names.at(-1), "model.norm.weight");
  assertEquals(tied.byName.get("model.layers.0.self_attn.k_proj.weight")!.shape, [KV, C]);
  for (const s of tied.specs) assertEquals(s.offset % VIEW_ALIGN, 0);
  assert(tied.total >= tied.count);
  const untied = paramLayout({ ...cfg, tie_word_embeddings: false }, "lm");
  assertEquals(untied.specs.at(-1)!.name, "lm_head.weight");
  assertEquals(untied.count - tied.count, 50 * C);
  const scalar = paramLayout(cfg, "scalar");
  assertEquals(scalar.specs.at(-1)!.shape, [1, C]);
  assertEquals(scalar.specs.at(-1)!.name, "score.weight");
});

Deno.test("initialValues: seeded, normal(0, 0.02) weights, zero biases and score, unit norms", () => {
  const layout = paramLayout(cfg, "scalar");
  const a = [...initialValues(layout, 1)],
    b = [...initialValues(layout, 1)],
    c = [...initialValues(layout, 2)];
  assertEquals(a[0][1], b[0][1]);
  assert(a[0][1][0] !== c[0][1][0]);
  const byName = new Map(a.map(([s, d]) => [s.name, d]));
  const w = byName.get("model.layers.0.mlp.up_proj.weight")!;
  const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
  assert(Math.abs(std - INIT_STD) < 0.002, `${std}`);
  assert(byName.get("model.layers.0.self_attn.q_proj.bias")!.every((x) => x === 0));
  assert(byName.get("score.weight")!.every((x) => x === 0));
  assert(byName.get("model.norm.weight")!.every((x) => x === 1));
});
