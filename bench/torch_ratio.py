"""PyTorch side of bench/torch_ratio.ts: the same shapes, one measurement of each per round.

Reads one line per round from stdin ("round"), measures every item once and answers with one JSON line of
rates ({"name": rate}), so that the driver can interleave rounds with its own; "quit" ends it. Shapes and items
are given once on the command line as JSON (the driver builds them). Threads: torch.set_num_threads(--threads).
"""

import argparse
import json
import sys
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM


def qwen2(cfg):
    """A Qwen2 causal LM with our preset's shapes (random weights, float32, eager attention)."""
    config = Qwen2Config(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["hidden_size"],
        intermediate_size=cfg["intermediate_size"],
        num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"],
        num_key_value_heads=cfg["num_key_value_heads"],
        rope_theta=cfg["rope_theta"],
        rms_norm_eps=cfg["rms_norm_eps"],
        tie_word_embeddings=cfg["tie_word_embeddings"],
        max_position_embeddings=cfg["max_position_embeddings"],
        attn_implementation="sdpa",
    )
    torch.manual_seed(1)
    return Qwen2ForCausalLM(config).float()


def timed(fn, min_seconds, clock):
    """Seconds per call of fn on `clock` (the wall, or this process's CPU time), repeated until min_seconds pass."""
    now = time.perf_counter if clock == "wall" else time.process_time
    reps, t0 = 0, now()
    while True:
        fn()
        reps += 1
        if now() - t0 >= min_seconds:
            return (now() - t0) / reps


def make_items(spec):
    items = {}
    for mm in spec["matmuls"]:
        n = mm["n"]
        a, b = torch.randn(n, n), torch.randn(n, n)
        items[mm["name"]] = (lambda a=a, b=b: torch.mm(a, b), 2 * n**3 / 1e9, 0.3)
    for tr in spec["train"]:
        model = qwen2(tr["config"])
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        B, T, V = tr["batch"], tr["seqLen"], tr["config"]["vocab_size"]
        g = torch.Generator().manual_seed(1)
        tokens = torch.randint(0, V, (B, T), generator=g)

        def step(model=model, opt=opt, tokens=tokens):
            opt.zero_grad(set_to_none=True)
            logits = model(tokens).logits[:, :-1]
            logp = torch.log_softmax(logits, -1).gather(-1, tokens[:, 1:, None]).squeeze(-1)
            (-logp.mean()).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        step()
        items[tr["name"]] = (step, B * T, tr["minSeconds"])
    for sm in spec["sample"]:
        model = qwen2(sm["config"]).eval()
        B, P, N, V = sm["batch"], sm["promptLen"], sm["newTokens"], sm["config"]["vocab_size"]
        g = torch.Generator().manual_seed(B)
        prompts = torch.randint(0, V, (B, P), generator=g)

        def generate(model=model, prompts=prompts, N=N):
            with torch.inference_mode():
                model.generate(
                    prompts,
                    attention_mask=torch.ones_like(prompts),
                    do_sample=True,
                    temperature=1.0,
                    top_p=0.9,
                    top_k=0,
                    max_new_tokens=N,
                    min_new_tokens=N,
                    pad_token_id=0,
                    use_cache=True,
                )

        generate()
        items[sm["name"]] = (generate, B * N, 0)
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    ap.add_argument("--spec", required=True, help="JSON: matmuls, train, sample")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    items = make_items(json.loads(args.spec))
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        rates = {name: work / timed(fn, min_s, args.clock) for name, (fn, work, min_s) in items.items()}
        print(json.dumps(rates), flush=True)


if __name__ == "__main__":
    main()
