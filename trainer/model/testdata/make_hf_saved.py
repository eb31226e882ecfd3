"""Writes tiny random Qwen2 folders with transformers' own save_pretrained, and transformers' float32 logits for
them, for trainer/model/hf_saved_test.ts: the folders as transformers 4 and 5 really write them (v5 keeps the rope
base in `rope_parameters`), tied and untied, in float32, float16 and bfloat16, in one file or sharded.

Run with the transformers version named by the first argument installed (4 or 5), from this folder:
    python3 make_hf_saved.py 5
"""
import json
import os
import sys

import torch
import transformers

MAJOR = sys.argv[1]
assert transformers.__version__.startswith(MAJOR + "."), transformers.__version__
CASES = {
    "5": [("v5_tied_bf16", True, torch.bfloat16, None), ("v5_untied_f32", False, torch.float32, "4KB"),
          ("v5_tied_f16", True, torch.float16, None)],
    "4": [("v4_untied_bf16", False, torch.bfloat16, "4KB"), ("v4_tied_f32", True, torch.float32, None),
          ("v4_untied_f16", False, torch.float16, None)],
}[MAJOR]
TOKENS = [[1, 5, 7, 3, 12, 0, 9, 4], [1, 2, 11, 8, 6, 10, 3, 5]]

for i, (name, tied, dtype, shard) in enumerate(CASES):
    torch.manual_seed(100 + i)
    config = transformers.Qwen2Config(
        vocab_size=13, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, rope_theta=1e6, rms_norm_eps=1e-6,
        tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2,
    )
    model = transformers.Qwen2ForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)  # larger than the default init, so that the logits differ visibly
        for name_, p in model.named_parameters():
            if "norm" in name_:
                p.add_(1.0)
    model = model.to(dtype)
    out = os.path.join("hf_saved", name)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(out, **kwargs)
    # The reference: transformers' own forward in float32 over the saved (rounded) weights.
    loaded = transformers.Qwen2ForCausalLM.from_pretrained(out, dtype=torch.float32) if MAJOR == "5" else \
        transformers.Qwen2ForCausalLM.from_pretrained(out, torch_dtype=torch.float32)
    with torch.no_grad():
        logits = loaded(torch.tensor(TOKENS)).logits
    with open(os.path.join("hf_saved", name + "_expected.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "tokens": TOKENS,
                   "logits": logits.tolist()}, f)
    print(name, "written by transformers", transformers.__version__)
