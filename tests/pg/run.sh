#!/usr/bin/env bash
# The PostgreSQL suite: build and install the extension, start a throwaway cluster, run the
# pg_regress tests (tests/pg/sql/*.sql against tests/pg/expected/*.out), then the cases shared
# with SQLite (tests/cases/run_pg.sh) and the scenarios (tests/pg/scenarios/run_all.sh, when it
# exists) against the same cluster, and stop it.
#
# Fixtures: tests/pg/migrations/<case>/ is copied to a temp folder the cluster's OS user can
# read (the server reads migration folders, and the repository may live where it cannot) and
# exported as MIGRATE_FIXTURES; tests may create scratch folders inside it.
#
# Scenarios contract: run_all.sh runs with the cluster up (PGHOST/PGPORT/PGUSER/PGDATABASE and
# MIGRATE_FIXTURES exported), prints its own results and exits non-zero on failure. When its
# output ends with a line "N passed, M failed", those counts join the totals; otherwise it
# counts as one result, passed or failed by its exit status.
#
# A subset, for working on one area (make check always runs everything):
#   PG_REGRESS="help catalog"  only these pg_regress tests ("none" skips pg_regress)
#   PG_CASES=none              skips the shared cases
#   PG_SCENARIOS='4[0-2]_*'    only the scenarios whose file name matches this glob
#
# The last line printed is always "N passed, M failed"; the exit status is non-zero when
# anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

passed=0
failed=0
summary() { echo "$passed passed, $failed failed"; }

# --- build and install (installing writes to the server's directories) ---
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  sudo=()
fi
if ! make -s -C pg_ext >/dev/null || ! "${sudo[@]}" make -s -C pg_ext install >/dev/null; then
  echo "run.sh: building or installing the extension failed" >&2
  failed=1
  summary
  exit 1
fi

# --- fixtures, cluster, and cleanup on every exit ---
# shellcheck source=cluster.sh
source "$ROOT/tests/pg/cluster.sh"
FIXTURES=$(mktemp -d /tmp/migrate-fixtures.XXXXXX)
cleanup() {
  cluster_stop
  rm -rf "$FIXTURES"
}
trap cleanup EXIT
cp -R "$ROOT/tests/pg/migrations/." "$FIXTURES/"
chmod -R a+rX "$FIXTURES"
export MIGRATE_FIXTURES="$FIXTURES"

if ! cluster_start; then
  echo "run.sh: could not start a PostgreSQL cluster" >&2
  failed=1
  summary
  exit 1
fi

# --- pg_regress ---
OUT="$ROOT/build/pg_regress"
rm -rf "$OUT"
mkdir -p "$OUT"
regress_log="$OUT/installcheck.log"
if [ "${PG_REGRESS:-}" = none ]; then
  echo "All 0 tests passed" >"$regress_log"
  regress_rc=0
elif [ -n "${PG_REGRESS:-}" ]; then
  make -C pg_ext installcheck REGRESS="$PG_REGRESS" 2>&1 | tee "$regress_log"
  regress_rc=${PIPESTATUS[0]}
else
  make -C pg_ext installcheck 2>&1 | tee "$regress_log"
  regress_rc=${PIPESTATUS[0]}
fi
line=$(grep -Eo '(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$regress_log" | tail -n 1)
if [[ $line =~ ^All\ ([0-9]+)\ tests\ passed ]]; then
  passed=$((passed + BASH_REMATCH[1]))
elif [[ $line =~ ^([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
  failed=$((failed + BASH_REMATCH[1]))
  passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
else
  failed=$((failed + 1)) # pg_regress did not get as far as running the tests
fi
if [ "$regress_rc" -ne 0 ] || [[ ! $line =~ ^All ]]; then
  regress_rc=1
  if [ -f "$OUT/regression.diffs" ]; then
    echo "===== $OUT/regression.diffs ====="
    cat "$OUT/regression.diffs"
  fi
fi

# run_counted TITLE SCRIPT: run a script that ends with "N passed, M failed" (its output also in
# $OUT/<script's name>.log) and add its counts to the totals; without that line it counts as one
# result, passed or failed by its exit status. Returns the script's exit status.
run_counted() {
  local title=$1 script=$2 log rc counts
  log="$OUT/$(basename "$script" .sh).log"
  echo "===== $title ====="
  bash "$script" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    # a failing exit status with no failure counted still counts as a failure
    if [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then
      failed=$((failed + 1))
    fi
  elif [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  return "$rc"
}

# --- the cases shared with SQLite (tests/cases), with the cluster still up ---
cases_rc=0
if [ "${PG_CASES:-}" != none ]; then
  run_counted "tests/cases/run_pg.sh (the cases shared with SQLite)" "$ROOT/tests/cases/run_pg.sh" ||
    cases_rc=1
fi

# --- scenarios, with the cluster still up ---
scenario_rc=0
SCENARIOS="$ROOT/tests/pg/scenarios/run_all.sh"
if [ -f "$SCENARIOS" ]; then
  run_counted "tests/pg/scenarios/run_all.sh" "$SCENARIOS" || scenario_rc=1
fi

summary
[ "$regress_rc" -eq 0 ] && [ "$cases_rc" -eq 0 ] && [ "$scenario_rc" -eq 0 ] && [ "$failed" -eq 0 ]
