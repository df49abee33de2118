#!/usr/bin/env bash
# Start-up time of the release binary: `glassbox --help`, a whole process that loads every shared library and prints.
#
#   Benchmarks/startup.sh [RUNS] [BINARY]     (default 50 runs, after 3 uncounted; default binary .build/release/glassbox,
#                                              e.g. .build/static/release/glassbox after make static)
#
# Prints the median, minimum and maximum wall milliseconds (bash's EPOCHREALTIME around each run) and the number of
# shared libraries the binary loads (ldd). Needs the release build (make build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-50}"
glassbox="${2:-$root/.build/release/glassbox}"
[[ -x "$glassbox" ]] || { echo "startup.sh: no $glassbox; build it first (make build)" >&2; exit 1; }
for _ in 1 2 3; do "$glassbox" --help >/dev/null; done
times=()
for ((r = 0; r < runs; r++)); do
    t0=$EPOCHREALTIME
    "$glassbox" --help >/dev/null
    t1=$EPOCHREALTIME
    times+=("$t0 $t1")
done
printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
ms = sorted((float(b) - float(a)) * 1000 for a, b in (l.split() for l in sys.stdin))
print(f"glassbox --help: median {statistics.median(ms):.1f} ms, min {ms[0]:.1f}, max {ms[-1]:.1f} ({len(ms)} runs)")'
echo "shared libraries loaded: $(ldd "$glassbox" | wc -l)"
