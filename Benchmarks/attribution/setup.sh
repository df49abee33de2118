#!/usr/bin/env bash
# Creates (or reuses) Benchmarks/venv for the attribution comparison (compare.py): the CPU PyTorch that
# Benchmarks/pytorch/setup.sh installs, plus Captum from PyPI.
#
# Captum is installed with --no-deps plus its declared pure-Python requirements (matplotlib, numpy, packaging,
# tqdm): resolving its `torch>=2.3` requirement normally makes pip complete the CUDA torch's own dependency tree
# (triton, cusolver, cuda-bindings, cuda-toolkit: about 0.5 GB that pytorch/setup.sh leaves out on purpose).
# Idempotent: a venv that already imports captum at the pinned version is left alone.
#
# Usage: Benchmarks/attribution/setup.sh          (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/venv"
captum_version="0.9.0"

bash "$here/../pytorch/setup.sh"

smoke_test() {
    "$venv/bin/python" - "$captum_version" <<'PY'
import sys
import torch
import captum
from captum.attr import IntegratedGradients
want = sys.argv[1]
if captum.__version__ != want:
    sys.exit(f"captum {captum.__version__} installed, {want} wanted")
m = torch.nn.Sequential(torch.nn.Linear(3, 2))
a = IntegratedGradients(m).attribute(torch.ones(1, 3), target=0, n_steps=4)
assert a.shape == (1, 3)
print(f"captum {captum.__version__} works with torch {torch.__version__} in {sys.prefix}")
PY
}

if smoke_test 2>/dev/null; then
    echo "attribution/setup.sh: captum $captum_version is already installed; nothing to do."
    exit 0
fi

echo "attribution/setup.sh: installing captum==$captum_version"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-deps "captum==$captum_version"
"$venv/bin/python" -m pip install --disable-pip-version-check matplotlib numpy packaging tqdm
smoke_test
