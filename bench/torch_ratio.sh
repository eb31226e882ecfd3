#!/usr/bin/env bash
# The CPU backend against PyTorch on this machine (bench/torch_ratio.ts, interleaved rounds, medians, ratios).
# Makes a Python environment with torch and transformers first (pip from the configured index or mirror) unless
# one exists at $TORCH_VENV (default /tmp/oreal-torch-venv; offline mirrors answer at once, so pip does not wait
# on retries). Usage:
#   bash bench/torch_ratio.sh [--threads N] [--rounds R] [--quick] [--clock wall|cpu]
set -eu
cd "$(dirname "$0")/.."
VENV=${TORCH_VENV:-/tmp/oreal-torch-venv}
if ! "$VENV/bin/python" -c "import torch, transformers" 2>/dev/null; then
  echo "torch_ratio: installing torch and transformers into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --retries 0 --timeout 5 torch transformers
fi
exec nice -n 5 deno run --allow-read --allow-env --allow-sys --allow-run="$VENV/bin/python" \
  bench/torch_ratio.ts --python "$VENV/bin/python" "$@"
