"""PyTorch side of the GPU check (bench/gpu_check.sh runs it): the shapes of bench/gpu_check.ts and of
bench/matmul_bench.ts on the same GPU, printed as JSON lines ({"what": ..., ...}).

- matmul GFLOP/s (fp32, TF32 off, as the WebGPU kernels compute) for the Qwen2.5-0.5B training shapes;
- with `transformers` importable: a Qwen2.5-0.5B-shaped Qwen2ForCausalLM (random weights, fp32) training step
  with AdamW on BATCH x SEQ tokens (tokens/s, torch.cuda.max_memory_allocated) and `generate` with top-p 0.9
  from 64-token prompts at batch 1, 16 and 64 (new tokens/s).

Usage: python3 bench/gpu_check_torch.py [--batch 4] [--seq 512] [--new 64] [--max-seconds 120]
"""

import argparse
import json
import time

import torch


def emit(**o):
    print(json.dumps(o), flush=True)


def timed(fn, reps):
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps


def matmuls():
    # (label, m, n, k, transA, transB) as in bench/matmul_bench.ts's GPU list.
    shapes = [
        ("mlp up 4096x4864x896 (NT)", 4096, 4864, 896, False, True),
        ("mlp down 4096x896x4864 (NT)", 4096, 896, 4864, False, True),
        ("q_proj 4096x896x896 (NT)", 4096, 896, 896, False, True),
        ("dX 4096x896x4864 (NN)", 4096, 896, 4864, False, False),
        ("dW 4864x896x4096 (TN)", 4864, 896, 4096, True, False),
        ("decode 1x896x896 (gemv)", 1, 896, 896, False, True),
    ]
    for label, m, n, k, ta, tb in shapes:
        a = torch.randn((k, m) if ta else (m, k), device="cuda")
        b = torch.randn((n, k) if tb else (k, n), device="cuda")
        aa = a.t() if ta else a
        bb = b.t() if tb else b
        s = timed(lambda: torch.matmul(aa, bb), 20)
        emit(what="matmul", label=label, gflops=2 * m * n * k / s / 1e9)


def qwen(batch, seq, new, deadline):
    try:
        from transformers import Qwen2Config, Qwen2ForCausalLM
    except ImportError:
        emit(what="train step", skipped="transformers not importable")
        return
    config = Qwen2Config(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
    )
    model = Qwen2ForCausalLM(config).cuda().float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
    tokens = torch.randint(0, config.vocab_size, (batch, seq), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=tokens, labels=tokens).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    torch.cuda.reset_peak_memory_stats()
    s = timed(step, 5)
    emit(what="train step", batch=batch, seq=seq, ms_median=s * 1000, tokens_per_s=batch * seq / s,
         peak_allocated_bytes=torch.cuda.max_memory_allocated())
    model.eval()
    for b in (1, 16, 64):
        if time.perf_counter() > deadline:
            emit(what="sampling", batch=b, skipped="time budget spent")
            continue
        prompts = torch.randint(0, 1000, (b, 64), device="cuda")
        gen = lambda: model.generate(prompts, max_new_tokens=new, min_new_tokens=new, do_sample=True,
                                     top_p=0.9, temperature=1.0, pad_token_id=0)
        with torch.no_grad():
            s = timed(gen, 1)
        emit(what="sampling", batch=b, new_tokens_per_s=b * new / s)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--new", type=int, default=64)
    p.add_argument("--max-seconds", type=float, default=120)
    args = p.parse_args()
    deadline = time.perf_counter() + args.max_seconds
    if not torch.cuda.is_available():
        emit(what="torch", skipped="no CUDA device")
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    emit(what="torch", version=torch.__version__, device=torch.cuda.get_device_name(0))
    matmuls()
    qwen(args.batch, args.seq, args.new, deadline)


if __name__ == "__main__":
    main()
