#!/usr/bin/env bash
# GPU check (at most 8 minutes): measures the WebGPU backend the first time a machine with a GPU is at hand.
#   1. WebGPU matmul GFLOP/s on the Qwen2.5-0.5B training shapes (bench/matmul_bench.ts)      <= 90 s
#   2. a Qwen2.5-0.5B-shaped training step (tokens/s, peak GPU bytes) and batched sampling
#      at batch 1 / 16 / 64 on WebGPU (bench/gpu_check.ts)                                       <= 240 s
#   3. the same in PyTorch on the same GPU (bench/gpu_check_torch.py), when `python3 -c "import torch"` works
#      with CUDA (set PYTHON to another interpreter; nothing is installed: such machines are often offline) <= 120 s
# nvidia-smi's peak memory of the machine is sampled throughout. Output: plain lines and JSON lines, also saved
# to gpu_check.out. Usage: bash bench/gpu_check.sh [extra gpu_check.ts flags, e.g. --batch 2 --seq 256]
set -u
cd "$(dirname "$0")/.."
exec > >(tee gpu_check.out) 2>&1
PY=${PYTHON:-python3}
echo "gpu check: $(date -u +%FT%TZ), deno $(deno --version | head -1)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

peak_file=$(mktemp)
sampler=""
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > "$peak_file" 2>/dev/null &
  sampler=$!
fi

echo "== 1. WebGPU matmul =="
timeout 90 deno run -A bench/matmul_bench.ts || echo "matmul bench: exit $?"

echo "== 2. WebGPU Qwen2.5-0.5B shapes: training step and sampling =="
timeout 240 deno run -A bench/gpu_check.ts --max-seconds 180 "$@" || echo "gpu_check.ts: exit $?"

echo "== 3. PyTorch on the same GPU =="
if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  timeout 120 "$PY" bench/gpu_check_torch.py --max-seconds 90 || echo "gpu_check_torch.py: exit $?"
else
  echo "PyTorch with CUDA is not importable by $PY: PyTorch side skipped"
fi

if [ -n "$sampler" ]; then
  kill "$sampler" 2>/dev/null
  echo "nvidia-smi peak memory used (MiB, whole GPU): $(sort -n "$peak_file" | tail -1)"
fi
rm -f "$peak_file"
echo "gpu check done: $(date -u +%FT%TZ)"
