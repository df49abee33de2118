#!/usr/bin/env bash
# Whole-process training, Glassbox against PyTorch, side by side: what a user waits for at the command line.
#
#   Benchmarks/train-compare.sh [RUNS]        (default 5 runs of each command, alternating)
#
# Each run is one process from start to exit (start-up, loading Fashion-MNIST's train and test splits, training,
# the test-set evaluation, saving the model), timed with bash's EPOCHREALTIME:
#   cnn: `glassbox train` of the issue's CNN for 1 epoch (batch 64, SGD lr 0.05 momentum 0.9)
#        against Benchmarks/pytorch/train.py --workload cnn --epochs 1 (same model, data, batches, optimiser)
#   mlp: `glassbox train` of mlp 784-100-50-10 sigmoid for 3 epochs (batch 100, SGD lr 0.1)
#        against Benchmarks/pytorch/train.py --workload mlp --epochs 3
# Both use 2 threads. Glassbox runs first in every pair, then PyTorch; the table gives each side's median, min and
# max wall seconds and the ratio PyTorch / Glassbox (how many times faster Glassbox is) taken pair by pair, as median
# (min-max) — pairing keeps it meaningful when the machine's speed drifts — plus the test accuracy each side reached. Needs the release build (make build) and the venv of Benchmarks/pytorch/setup.sh.
# The machine has 2 cores: anything else running skews both sides; the load average is printed before and after.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-5}"
glassbox="$root/.build/release/glassbox"
python="$root/Benchmarks/venv/bin/python"
[[ -x "$glassbox" ]] || { echo "train-compare.sh: no $glassbox; build it first (make build)" >&2; exit 1; }
[[ -x "$python" ]] || { echo "train-compare.sh: no PyTorch venv; create it with Benchmarks/pytorch/setup.sh" >&2; exit 2; }
export GLASSBOX_THREADS=2 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cnn='input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10'
glassbox_cmd() {   # workload
    if [[ $1 == cnn ]]; then
        "$glassbox" train --quiet --json --model "$cnn" --data fashion-mnist --epochs 1 --batch-size 64 --lr 0.05 --momentum 0.9 --out "$tmp/g.safetensors"
    else
        "$glassbox" train --quiet --json --model 'mlp 784-100-50-10 sigmoid' --data fashion-mnist --epochs 3 --batch-size 100 --lr 0.1 --out "$tmp/g.safetensors"
    fi
}
torch_cmd() {      # workload
    local epochs=1; [[ $1 == mlp ]] && epochs=3
    "$python" Benchmarks/pytorch/train.py --workload "$1" --epochs "$epochs" --out "$tmp/t.pt"
}
timed() {          # output-file command...: runs the command, appends its wall seconds to output-file.times
    local out="$1"; shift
    local t0=$EPOCHREALTIME
    "$@" >"$out.last" 2>"$out.err" || { echo "train-compare.sh: '$*' failed:" >&2; cat "$out.err" >&2; exit 1; }
    local t1=$EPOCHREALTIME
    python3 -c "print(f'{$t1 - $t0:.3f}')" >>"$out.times"
}

echo "train-compare.sh: load average before: $(cut -d' ' -f1 /proc/loadavg) (on $(nproc) cores); $runs runs each" >&2
for workload in cnn mlp; do
    glassbox_cmd "$workload" >/dev/null    # warm-up: page cache, first-run effects (not counted)
    for ((r = 1; r <= runs; r++)); do
        timed "$tmp/glassbox-$workload" glassbox_cmd "$workload"
        timed "$tmp/torch-$workload" torch_cmd "$workload"
        echo "train-compare.sh: $workload run $r/$runs: glassbox $(tail -1 "$tmp/glassbox-$workload.times") s, pytorch $(tail -1 "$tmp/torch-$workload.times") s" >&2
    done
done
echo "train-compare.sh: load average after: $(cut -d' ' -f1 /proc/loadavg)" >&2

python3 - "$tmp" "$("$python" -c 'import torch; print(torch.__version__)')" <<'PY'
import json, statistics, sys
tmp, version = sys.argv[1], sys.argv[2]
def times(name): return [float(l) for l in open(f"{tmp}/{name}.times")]
def accuracy(name):
    d = json.load(open(f"{tmp}/{name}.last"))
    return d.get("evaluation", d)["accuracy"]
rows = [("workload", "Glassbox s (median, min-max)", f"PyTorch {version} s (median, min-max)", "ratio per pair (median, min-max)",
         "test accuracy G / P")]
for w, what in (("cnn", "cnn, 1 epoch"), ("mlp", "mlp, 3 epochs")):
    g, t = times(f"glassbox-{w}"), times(f"torch-{w}")
    gm, tm = statistics.median(g), statistics.median(t)
    ratios = [b / a for a, b in zip(g, t)]
    rows.append((what, f"{gm:.2f} ({min(g):.2f}-{max(g):.2f})", f"{tm:.2f} ({min(t):.2f}-{max(t):.2f})",
                 f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
                 f"{accuracy(f'glassbox-{w}'):.4f} / {accuracy(f'torch-{w}'):.4f}"))
widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
for i, r in enumerate(rows):
    print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
    if i == 0: print("  ".join("-" * w for w in widths))
PY
