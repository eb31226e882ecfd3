"""Checks a folder written by write_interop_folder.ts with the installed transformers (4.x or 5.x): the same token
ids and decoded text as ours, logits within 1e-4 of ours, apply_chat_template giving our prompt, padded batches
and generate() working, and the EOS ids.

    python3 check_transformers.py DIR
"""
import json
import sys

import torch
import transformers

folder = sys.argv[1]
expected = json.load(open(f"{folder}/expected.json"))
tok = transformers.AutoTokenizer.from_pretrained(folder)
for text, ids, decoded in zip(expected["texts"], expected["ids"], expected["decoded"]):
    got = tok(text, add_special_tokens=False)["input_ids"]
    assert got == ids, (text, got, ids)
    assert tok.decode(got) == decoded, (tok.decode(got), decoded)
prompt = tok.apply_chat_template([{"role": "user", "content": "What is 1 + 2?"}], tokenize=False,
                                 add_generation_prompt=True)
assert prompt == expected["prompt"], (prompt, expected["prompt"])
model = transformers.AutoModelForCausalLM.from_pretrained(folder)
with torch.no_grad():
    logits = model(torch.tensor([expected["ids"][0]])).logits[0].flatten()
diff = (logits - torch.tensor(expected["logits"])).abs().max().item()
assert diff < 1e-4, diff
# Batches pad (the folder names a pad token) and generate() takes what the tokenizer returns.
batch = tok(expected["texts"][:2], padding=True, return_tensors="pt", add_special_tokens=False)
model.generate(**batch, max_new_tokens=2, do_sample=False)
eos = model.generation_config.eos_token_id
assert (eos if isinstance(eos, list) else [eos]) == expected["eos"], (eos, expected["eos"])
print(f"transformers {transformers.__version__} ({type(tok).__name__}): ids, decoding, chat template and EOS "
      f"identical; max |logit difference| {diff:.2e}")
