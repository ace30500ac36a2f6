#!/usr/bin/env bash
# Benchmark of CALL migrate_apply_batches on PostgreSQL: N (5,000) generated migrations on a
# cluster with the default max_locks_per_transaction (64), against migrate_apply in one call
# (which needs the lock table raised, and fails without it) and against the floor (every up
# script sent as one query) on a cluster with max_locks_per_transaction=2048.
# Prints figures and ratios, never a pass/fail test. Usage: bench/batches.sh [N=5000] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
RUNS=${2:-3}
work=$(mktemp -d /tmp/migrate-bench-batches.XXXXXX)
chmod 755 "$work"
CLUSTER_DIR=
cleanup() { [ -n "$CLUSTER_DIR" ] && cluster_stop 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if ! command -v pg_config >/dev/null || [ ! -f "$(pg_config --pkglibdir)/migrate.so" ]; then
  echo "bench/batches.sh: the extension is not installed (make -C pg_ext install)" >&2
  exit 0
fi
# shellcheck source=../tests/pg/cluster.sh
. tests/pg/cluster.sh

# shellcheck source=lib.sh
. bench/lib.sh

python3 bench/gen.py "$N" "$work/m" >/dev/null
chmod -R a+rX "$work/m"
DIR=$work/m/migrate

# seconds CMD...: on a fresh database "run" made from template "tmpl", the wall time of CMD, or
# "failed: <last line of its output>".
seconds() {
  dropdb --if-exists run >/dev/null 2>&1
  createdb -T tmpl run
  psql -X -q -d run -c CHECKPOINT
  local t0 t1 out
  t0=$(date +%s.%N)
  if out=$("$@" 2>&1); then
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
  else
    echo "failed: $(grep -m1 ERROR <<<"$out" || tail -1 <<<"$out")"
  fi
}

# median_of CMD...: the median seconds of RUNS runs, or the first failure.
median_of() {
  local i t all=()
  for ((i = 0; i < RUNS; i++)); do
    t=$(seconds "$@")
    case $t in failed*) echo "$t"; return ;; esac
    all+=("$t")
  done
  printf '%s\n' "${all[@]}" | median
}

# start_cluster MAX_LOCKS: a scratch cluster with the settings of bench/run.sh but that one,
# and the template database with the extension.
start_cluster() {
  [ -n "$CLUSTER_DIR" ] && cluster_stop
  cluster_start fsync=on synchronous_commit=on full_page_writes=on shared_buffers=128MB \
    "max_locks_per_transaction=$1" >"$work/cluster.log" 2>&1 ||
    { cat "$work/cluster.log" >&2; exit 1; }
  createdb tmpl
  psql -X -q -d tmpl -c 'CREATE EXTENSION migrate'
}

P=(psql -X -q -v ON_ERROR_STOP=1 -d run)
echo "[bench] default lock table: migrate_apply_batches, and migrate_apply in one call" >&2
start_cluster 64
b100=$(median_of "${P[@]}" -c "CALL migrate_apply_batches('$DIR')")
b500=$(median_of "${P[@]}" -c "CALL migrate_apply_batches('$DIR', NULL, 500)")
one_small=$(seconds "${P[@]}" -c "SELECT migrate_apply('$DIR')")
echo "[bench] raised lock table: migrate_apply in one call, and the floor" >&2
start_cluster 2048
floor=$(median_of "${P[@]}" -f "$work/m/floor/one_query.psql")
one=$(median_of "${P[@]}" -c "SELECT migrate_apply('$DIR')")
b100_raised=$(median_of "${P[@]}" -c "CALL migrate_apply_batches('$DIR')")

echo
echo "## CALL migrate_apply_batches, $N migrations (median of $RUNS runs, seconds)"
echo
echo "| max_locks_per_transaction | case | seconds | against the floor | against one call |"
echo "|---|---|---|---|---|"
echo "| 2048 | floor: every up script sent as one query | $floor | 1.00x | |"
echo "| 2048 | migrate_apply, one call | $one | $(ratio "$one" "$floor") | 1.00x |"
echo "| 2048 | migrate_apply_batches, batches of 100 | $b100_raised | $(ratio "$b100_raised" "$floor") | $(ratio "$b100_raised" "$one") |"
echo "| 64 (default) | migrate_apply, one call | $one_small | | |"
echo "| 64 (default) | migrate_apply_batches, batches of 100 | $b100 | $(ratio "$b100" "$floor") | $(ratio "$b100" "$one") |"
echo "| 64 (default) | migrate_apply_batches, batches of 500 | $b500 | $(ratio "$b500" "$floor") | $(ratio "$b500" "$one") |"
echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(pg_config --version); fsync=on, synchronous_commit=on, shared_buffers=128MB, max_connections=40; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
