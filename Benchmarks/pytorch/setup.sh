#!/usr/bin/env bash
# Creates Benchmarks/venv with a CPU-only PyTorch for the peer benchmark (bench.py).
#
# Only PyPI is reachable, and PyPI has one Linux x86_64 wheel of torch 2.15.0: the CUDA 13 build
# (version string 2.15.0+cu132). There is no CPU-only 2.15.0 wheel there. That wheel's torch._C
# links (DT_NEEDED, not dlopen) against libtorch_cuda.so, which in turn links against cudart,
# cublas(Lt), cudnn, cufft, cufile, cupti, cusparse(+nvJitLink), cusparseLt, nccl, nvrtc and
# nvshmem, so `import torch` fails without those shared libraries even on a machine with no GPU
# (checked: --no-deps plus the pure-Python deps alone fails with "libcudart.so.13: cannot open").
#
# Leanest set that works: torch with --no-deps, its pure-Python requirements, numpy, and only the
# NVIDIA runtime wheels that the dynamic linker needs at import time, also with --no-deps.
# Left out (never loaded on CPU): triton, cuda-bindings, nvidia-cusolver (only dlopened through
# libtorch_cuda_linalg.so), nvidia-nvtx and the cuda-toolkit meta-package — about 0.5 GB of
# wheels. The NVIDIA libraries are still ~2.8 GB of the ~4 GB venv; they are never called.
#
# The script finishes with a CPU smoke test and is idempotent: a venv that already passes the
# smoke test is left alone.
#
# Usage: Benchmarks/pytorch/setup.sh          (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/venv"
torch_version="2.15.0"
python="${PYTHON:-python3}"

# Pure-Python requirements declared by torch 2.15.0 (its METADATA), with its minimum versions.
torch_deps=(
    "filelock"
    "typing-extensions>=4.13.0"
    "setuptools>=77.0.3"
    "sympy>=1.13.3"
    "networkx>=2.5.1"
    "jinja2"
    "fsspec>=0.8.5"
)

# NVIDIA runtime wheels whose libraries torch 2.15.0 links against, pinned as torch 2.15.0's
# METADATA pins them (directly, or through cuda-toolkit[...]==13.2.2).
cuda_link_deps=(
    "nvidia-cuda-runtime==13.2.86.*"
    "nvidia-cuda-cupti==13.2.86.*"
    "nvidia-cuda-nvrtc==13.2.86.*"
    "nvidia-cublas==13.4.1.3.*"
    "nvidia-cufft==12.2.0.57.*"
    "nvidia-cufile==1.17.1.22.*"
    "nvidia-cusparse==12.7.10.12.*"
    "nvidia-nvjitlink>=13.2.86,<14"
    "nvidia-cudnn-cu13==9.26.0.51"
    "nvidia-cusparselt-cu13==0.8.1"
    "nvidia-nccl-cu13==2.30.7"
    "nvidia-nvshmem-cu13==3.7.2"
)

smoke_test() {
    "$venv/bin/python" - "$torch_version" <<'EOF'
import sys
import numpy
import torch
want = sys.argv[1]
have = torch.__version__.split("+")[0]
if have != want:
    sys.exit(f"torch {torch.__version__} installed, {want} wanted")
c = torch.randn(2, 2) @ torch.randn(2, 2)
assert c.shape == (2, 2) and c.device.type == "cpu"
x = torch.randn(4, 3, requires_grad=True)
(x.sigmoid().sum()).backward()
assert x.grad is not None
print(f"torch {torch.__version__} (CPU) and numpy {numpy.__version__} work in {sys.prefix}")
EOF
}

if [[ -x "$venv/bin/python" ]] && smoke_test 2>/dev/null; then
    echo "setup.sh: $venv is already set up; nothing to do."
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup.sh: creating $venv"
    "$python" -m venv "$venv"
fi

pip=("$venv/bin/python" -m pip install --disable-pip-version-check)
echo "setup.sh: installing torch==$torch_version with --no-deps"
"${pip[@]}" --no-deps "torch==$torch_version"
echo "setup.sh: installing the NVIDIA runtime libraries torch links against (no triton, no cusolver)"
"${pip[@]}" --no-deps "${cuda_link_deps[@]}"
echo "setup.sh: installing torch's pure-Python dependencies and numpy"
"${pip[@]}" "${torch_deps[@]}" numpy
# pip reports torch's unmet triton/cuda-bindings/cuda-toolkit requirements above; that is expected.

smoke_test
