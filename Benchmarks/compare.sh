#!/usr/bin/env bash
# Glassbox vs PyTorch training throughput on Fashion-MNIST, both on 2 threads, one after the other.
#
#   Benchmarks/compare.sh
#
# 1. Glassbox: `swift run -c release GlassboxBench --json`, which prints one JSON object with
#    "mlp_samples_per_s" and "cnn_samples_per_s".
# 2. PyTorch:  Benchmarks/venv/bin/python Benchmarks/pytorch/bench.py --threads 2 (same workloads;
#    the venv comes from Benchmarks/pytorch/setup.sh).
# Then prints: workload, Glassbox samples/s, PyTorch samples/s, ratio (Glassbox / PyTorch).
#
# Exit status: 0 when both ran; 1 when the Glassbox benchmark failed or printed no usable JSON;
# 2 when the PyTorch venv is missing or bench.py failed (the Glassbox numbers are still shown).
# The machine has 2 cores: anything else running (a compile, another benchmark) skews both
# numbers, so the 1-minute load average is printed before and after.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

threads=2
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
export GLASSBOX_THREADS=$threads

venv_python="$root/Benchmarks/venv/bin/python"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/json_tool.py" <<'EOF'
# json_tool.py check GLASSBOX_OUT | table GLASSBOX_OUT TORCH_OUT
import json
import sys

KEYS = [("mlp", "mlp_samples_per_s"), ("cnn", "cnn_samples_per_s")]

def last_json_object(path):
    """The last line of the file that is a JSON object (build chatter may precede it)."""
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None

mode, glassbox_out = sys.argv[1], sys.argv[2]
glassbox = last_json_object(glassbox_out)
if glassbox is None or any(not isinstance(glassbox.get(k), (int, float)) for _, k in KEYS):
    sys.exit("compare.sh: ERROR: GlassboxBench --json printed no JSON object with numeric "
             + " and ".join(f'"{k}"' for _, k in KEYS) + f"; its stdout was:\n{open(glassbox_out).read()}")
if mode == "check":
    sys.exit(0)
torch = last_json_object(sys.argv[3]) or {}

def fmt(v):
    return f"{v:,.1f}" if isinstance(v, (int, float)) else "n/a"

label = f"PyTorch {torch['torch']}" if "torch" in torch else "PyTorch"
rows = [("workload", "Glassbox samples/s", f"{label} samples/s", "ratio (Glassbox/PyTorch)")]
for name, key in KEYS:
    g, t = glassbox[key], torch.get(key)
    ratio = f"{g / t:.2f}x" if isinstance(t, (int, float)) and t > 0 else "n/a"
    rows.append((name, fmt(g), fmt(t), ratio))
widths = [max(len(r[i]) for r in rows) for i in range(4)]
for i, r in enumerate(rows):
    print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
    if i == 0:
        print("  ".join("-" * w for w in widths))
EOF

load1() { cut -d' ' -f1 /proc/loadavg; }
echo "compare.sh: load average before: $(load1) (on $(nproc) cores)" >&2
if awk -v l="$(load1)" 'BEGIN { exit !(l > 0.5) }'; then
    echo "compare.sh: WARNING: the machine looks busy. With 2 threads on 2 cores, any other running" \
         "process can slow either benchmark many times over (PyTorch's MLP was seen 30x slower);" \
         "compare numbers from an idle machine only." >&2
fi

# --- Glassbox ---------------------------------------------------------------------------------
echo "compare.sh: building GlassboxBench (release)..." >&2
if ! swift build -c release --product GlassboxBench >"$tmp/swift-build.log" 2>&1; then
    cat "$tmp/swift-build.log" >&2
    echo "compare.sh: ERROR: 'swift build -c release --product GlassboxBench' failed (log above)." >&2
    exit 1
fi
echo "compare.sh: running swift run -c release GlassboxBench --json ($threads threads)..." >&2
set +e
swift run -c release --skip-build GlassboxBench --json >"$tmp/glassbox.out"
status=$?
set -e
if [[ $status -ne 0 ]]; then
    echo "compare.sh: ERROR: 'swift run -c release GlassboxBench --json' exited with status $status." >&2
    echo "compare.sh: its stdout was:" >&2
    cat "$tmp/glassbox.out" >&2
    exit 1
fi
# Check the contract before spending time on PyTorch.
python3 "$tmp/json_tool.py" check "$tmp/glassbox.out" || exit 1

# --- PyTorch ----------------------------------------------------------------------------------
torch_ok=1
if [[ ! -x "$venv_python" ]]; then
    torch_ok=0
    {
        echo "compare.sh: no PyTorch venv at Benchmarks/venv, so only Glassbox was measured."
        echo "compare.sh: create it with:  Benchmarks/pytorch/setup.sh   (CPU torch 2.15.0 + numpy from PyPI)"
    } >&2
else
    echo "compare.sh: running Benchmarks/pytorch/bench.py --threads $threads..." >&2
    if ! "$venv_python" Benchmarks/pytorch/bench.py --threads "$threads" --workload both >"$tmp/torch.out"; then
        torch_ok=0
        echo "compare.sh: ERROR: Benchmarks/pytorch/bench.py failed; rerun Benchmarks/pytorch/setup.sh if the venv is broken." >&2
    fi
fi
[[ $torch_ok -eq 1 ]] || : >"$tmp/torch.out"
echo "compare.sh: load average after: $(load1)" >&2

# --- table ------------------------------------------------------------------------------------
python3 "$tmp/json_tool.py" table "$tmp/glassbox.out" "$tmp/torch.out"

[[ $torch_ok -eq 1 ]] || exit 2
