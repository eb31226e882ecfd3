"""Writes a tiny random Qwen2 checkpoint and its reference outputs, for trainer/model/hf_reference_test.ts.

The forward pass below transcribes Hugging Face transformers' `modeling_qwen2.py` (Qwen2RMSNorm computed in
float32 then cast, rotary embeddings with `rotate_half`, q/k/v biases and no o_proj bias, `repeat_kv` for grouped
query heads, causal softmax attention scaled by head_dim**-0.5, SwiGLU MLP, tied LM head) in NumPy float64, so the
fixture is independent of our TypeScript code. The weights are written by hand in the safetensors format (bf16,
as Qwen2.5 releases are), and the reference uses the bf16-rounded values.

Run from this folder: python3 make_hf_qwen2_tiny.py
"""
import json
import struct

import numpy as np

CONFIG = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_act": "silu",
    "vocab_size": 13,
    "hidden_size": 16,
    "intermediate_size": 24,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
    "max_position_embeddings": 64,
    "torch_dtype": "bfloat16",
    "bos_token_id": 1,
    "eos_token_id": 2,
}
TOKENS = [[1, 5, 7, 3, 12, 0, 9, 4], [1, 2, 11, 8, 6, 10, 3, 5]]

rng = np.random.default_rng(2025)
C, I, V = CONFIG["hidden_size"], CONFIG["intermediate_size"], CONFIG["vocab_size"]
H, KV = CONFIG["num_attention_heads"], CONFIG["num_key_value_heads"]
D = C // H


def bf16_round(a):
    """Rounds float32 values to bfloat16 (nearest even), returning (float64 values, uint16 bits)."""
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64), bits


weights = {}
def param(name, shape, scale=0.3, offset=0.0):
    vals, bits = bf16_round(offset + scale * rng.standard_normal(shape))
    weights[name] = (shape, bits)
    return vals


embed = param("model.embed_tokens.weight", (V, C), 1.0)
layers = []
for l in range(CONFIG["num_hidden_layers"]):
    p = lambda s, shape, *a: param(f"model.layers.{l}.{s}", shape, *a)
    layers.append({
        "ln1": p("input_layernorm.weight", (C,), 0.1, 1.0),
        "wq": p("self_attn.q_proj.weight", (H * D, C)), "bq": p("self_attn.q_proj.bias", (H * D,)),
        "wk": p("self_attn.k_proj.weight", (KV * D, C)), "bk": p("self_attn.k_proj.bias", (KV * D,)),
        "wv": p("self_attn.v_proj.weight", (KV * D, C)), "bv": p("self_attn.v_proj.bias", (KV * D,)),
        "wo": p("self_attn.o_proj.weight", (C, H * D)),
        "ln2": p("post_attention_layernorm.weight", (C,), 0.1, 1.0),
        "wg": p("mlp.gate_proj.weight", (I, C)), "wu": p("mlp.up_proj.weight", (I, C)),
        "wd": p("mlp.down_proj.weight", (C, I)),
    })
norm = param("model.norm.weight", (C,), 0.1, 1.0)


def rms_norm(x, w):
    var = np.mean(x * x, axis=-1, keepdims=True)
    return w * (x / np.sqrt(var + CONFIG["rms_norm_eps"]))


def rotate_half(x):
    return np.concatenate([-x[..., D // 2:], x[..., : D // 2]], axis=-1)


def forward(tokens):
    T = len(tokens)
    x = embed[tokens]
    inv_freq = 1.0 / (CONFIG["rope_theta"] ** (np.arange(0, D, 2, dtype=np.float64) / D))
    freqs = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]
    for L in layers:
        h = rms_norm(x, L["ln1"])
        q = (h @ L["wq"].T + L["bq"]).reshape(T, H, D)
        k = (h @ L["wk"].T + L["bk"]).reshape(T, KV, D)
        v = (h @ L["wv"].T + L["bv"]).reshape(T, KV, D)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, H // KV, axis=1)  # repeat_kv
        v = np.repeat(v, H // KV, axis=1)
        s = np.einsum("thd,uhd->htu", q, k) * D ** -0.5
        s = s + np.triu(np.full((T, T), -np.inf), 1)[None]
        s = np.exp(s - s.max(-1, keepdims=True))
        p = s / s.sum(-1, keepdims=True)
        att = np.einsum("htu,uhd->thd", p, v).reshape(T, H * D)
        x = x + att @ L["wo"].T
        h = rms_norm(x, L["ln2"])
        g = h @ L["wg"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ L["wu"].T)) @ L["wd"].T
    return rms_norm(x, norm) @ embed.T


logits = [forward(np.array(t)).tolist() for t in TOKENS]

header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
for name, (shape, bits) in weights.items():
    data = bits.astype("<u2").tobytes()
    header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
head = json.dumps(header).encode()
head += b" " * ((8 - (8 + len(head)) % 8) % 8)
with open("hf_qwen2_tiny/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
with open("hf_qwen2_tiny/config.json", "w") as f:
    json.dump(CONFIG, f, indent=2)
with open("hf_qwen2_tiny_expected.json", "w") as f:
    json.dump({"tokens": TOKENS, "logits": logits}, f)
