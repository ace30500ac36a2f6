#!/usr/bin/env bash
# Run every libFuzzer target of fuzz/ for SECONDS each (built by `make fuzz-build` into
# build/fuzz/), starting from the checked-in seeds fuzz/corpus/<target>/ plus what earlier runs
# found (build/fuzz/corpus/<target>/, never checked in).
#
#   fuzz/run.sh SECONDS
#
# Prints "ok - fuzz <target>: N executions in S s" or "not ok - ..." with the failing input in
# base64 (also copied to fuzz/corpus/<target>/crash-<sha1>, so it stays a regression input), then
# "N passed, N failed". Writes the figures to build/fuzz/stats and the fuzzing part of
# tests/reliability/REPORT.md.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-60}
BUILD="$ROOT/build/fuzz"
TARGETS=(fuzz_name fuzz_sections fuzz_plan)

passed=0
failed=0
: >"$BUILD/stats"
for t in "${TARGETS[@]}"; do
  bin="$BUILD/$t"
  if [ ! -x "$bin" ]; then
    echo "not ok - fuzz $t: $bin is missing (make fuzz-build)"
    failed=$((failed + 1))
    continue
  fi
  work="$BUILD/corpus/$t"
  art="$BUILD/artifacts/$t"
  mkdir -p "$work" "$art"
  rm -f "$art"/*
  log="$BUILD/$t.log"
  # -seed: reproducible mutations for a given corpus; the run is bounded by time and per input
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout -k 10 $((SECONDS_EACH + 120)) "$bin" -seed=20240601 -max_total_time="$SECONDS_EACH" \
    -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$art/" "$work" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  crash=$(find "$art" -type f | head -n 1)
  if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
    passed=$((passed + 1))
    echo "ok - fuzz $t: ${execs:-0} executions in ${secs:-$SECONDS_EACH} s"
  else
    failed=$((failed + 1))
    echo "not ok - fuzz $t (exit status $rc)"
    grep -E 'property failed|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|SUMMARY' "$log" |
      head -n 5 | sed 's/^/#   /'
    if [ -n "$crash" ]; then
      keep="$ROOT/fuzz/corpus/$t/crash-$(sha1sum "$crash" | cut -c1-40)"
      cp "$crash" "$keep"
      echo "#   input (base64, kept as ${keep#"$ROOT"/}): $(base64 -w0 "$crash")"
    fi
  fi
  printf '%s %s %s %s\n' "$t" "${execs:-0}" "${secs:-$SECONDS_EACH}" "$([ "$rc" -eq 0 ] && [ -z "$crash" ] && echo ok || echo failed)" >>"$BUILD/stats"
done

# the fuzzing part of the report
"$ROOT/tests/reliability/report.sh" fuzz "$BUILD/stats" >/dev/null || true

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
