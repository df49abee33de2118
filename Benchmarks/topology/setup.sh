#!/usr/bin/env bash
# Creates Benchmarks/venv-tda with ripser.py 0.6.15 (its C++ core) for compare_ph.py. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x venv-tda/bin/python ] && venv-tda/bin/python -c "import ripser" 2>/dev/null; then exit 0; fi
python3 -m venv venv-tda
venv-tda/bin/pip install -q "ripser==0.6.15" numpy
venv-tda/bin/python -c "import ripser; print('ripser', ripser.__version__)"
