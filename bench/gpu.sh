#!/usr/bin/env bash
# The transformer bench on a CUDA GPU: the same table as on a CPU, in bfloat16, up to 256 games at once.
# On a machine with an NVIDIA GPU: TORCH=torch make setup (a CUDA build of torch), then bench/gpu.sh.
# Extra arguments go to the bench (e.g. --size small, --decoding legal, --dtype float32, --json).
# PYTHON names another interpreter that has arena installed (default: the project's .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "bench/gpu.sh: no CUDA device for this torch; on a GPU machine run 'TORCH=torch make setup' first" >&2
    exit 2
fi
"$PYTHON" -m arena bench transformer --device cuda --dtype bfloat16 --games 1,8,64,256 "$@"
