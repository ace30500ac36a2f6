#!/usr/bin/env bash
# Run every PostgreSQL scenario (tests/pg/scenarios/[0-9][0-9]_*.sh) one after the other and
# end with "N passed, N failed"; exits non-zero when any failed.
#
# Runs against the cluster the PG* variables name; when PGHOST is unset it starts a throwaway
# cluster (tests/pg/cluster.sh) and stops it at exit. The extension must be installed
# (make -C pg_ext install) and the SQLite module built (make sqlite) for the parity scenario.
# Each scenario is bounded by SCENARIO_TIMEOUT seconds (default 90). PG_SCENARIOS, a glob
# ('42_*'), runs only the scenarios whose file name matches it.
set -uo pipefail
SCENARIOS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCENARIOS_DIR/../../.." && pwd)
TIMEOUT=${SCENARIO_TIMEOUT:-90}

if [ -z "${PGHOST:-}" ]; then
  # shellcheck source=../cluster.sh
  source "$REPO_DIR/tests/pg/cluster.sh"
  trap cluster_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # shellcheck disable=SC2119 # no extra settings
  if ! cluster_start; then
    echo "not ok - cluster (could not start a throwaway cluster)"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

passed=0
failed=0
log=$(mktemp)
for script in "$SCENARIOS_DIR"/[0-9][0-9]_*.sh; do
  name=$(basename "$script" .sh)
  # shellcheck disable=SC2053 # PG_SCENARIOS is a glob on purpose
  if [ -n "${PG_SCENARIOS:-}" ] && [[ $name.sh != $PG_SCENARIOS ]]; then
    continue
  fi
  timeout -k 5 "$TIMEOUT" bash "$script" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ] && grep -q '^ok - ' "$log" && ! grep -q '^not ok - ' "$log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    if ! grep -q '^not ok - ' "$log"; then
      if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "not ok - $name (timed out after $TIMEOUT s)"
      else
        echo "not ok - $name (exit status $rc without a result line)"
      fi
    fi
  fi
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
