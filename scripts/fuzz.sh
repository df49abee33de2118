#!/usr/bin/env bash
# Builds the libFuzzer driver (Fuzz/Sources/GlassboxFuzz) with coverage and AddressSanitizer into .build-fuzz and runs
# each target for SECONDS, one after another.
#   bash scripts/fuzz.sh SECONDS [TARGET ...]      (default: every target)
# New inputs go to .build-fuzz/corpus/<target>/ (the seeds in Fuzz/corpus/<target>/ are read only); a crash is
# written to .build-fuzz/crashes/<target>-crash-… and stops the script with a non-zero status. Copy a crash into
# Fuzz/regressions/<target>/ once fixed: GlassboxFuzzTests replays it in `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors npy idx csv recipe runjson)

# libFuzzer without its main(): SwiftPM renames an executable's main, so the driver calls LLVMFuzzerRunDriver itself.
swiftc=$(readlink -f "$(command -v swiftc)")
fuzzer_lib=$(ls "$(dirname "$(dirname "$swiftc")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)
[ -n "$fuzzer_lib" ] || { echo "libclang_rt.fuzzer_no_main not found next to $swiftc" >&2; exit 1; }

swift build -c debug --scratch-path .build-fuzz --product GlassboxFuzz \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
  -Xswiftc -DFUZZING -Xlinker "$fuzzer_lib" -Xlinker -lstdc++ 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -3
binary=.build-fuzz/debug/GlassboxFuzz

mkdir -p .build-fuzz/crashes
# Crashes are reported by libFuzzer and AddressSanitizer; Swift's own backtracer would wait for a terminal.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
status=0
for t in "${targets[@]}"; do
  mkdir -p ".build-fuzz/corpus/$t"
  log=".build-fuzz/$t.log"
  echo "== $t: ${seconds} s"
  if "$binary" "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix=".build-fuzz/crashes/$t-" ".build-fuzz/corpus/$t" "Fuzz/corpus/$t" > "$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$log" | tr '\n' ' '; echo
  else
    status=1
    echo "$t: libFuzzer stopped with a finding (see $log):"
    grep -E "ERROR|SUMMARY|Fatal error|Test unit written|timeout|out-of-memory|leak" "$log" | head -8
  fi
done
exit $status
