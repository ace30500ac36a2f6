#!/usr/bin/env bash
# Benchmark of migrate_fleet on SQLite: T (1,000) new tenant files, each brought to M (20)
# generated migrations (bench/gen.py), by
#   - one migrate_fleet call (fleet_workers 0: one per core);
#   - the same with one worker;
#   - a shell loop of sqlite3 tenant.db "SELECT migrate_apply(...)", one process per file;
#   - a shell loop of dbmate up, when bench/run.sh's way of installing it (npm) works here.
# Every run starts from fresh copies of the same empty files; each is checked afterwards (every
# tenant at the last version). Prints figures and ratios, never a pass/fail test.
# Usage: bench/fleet.sh [T=1000] [M=20] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-1000}
M=${2:-20}
RUNS=${3:-3}
SQLITE3=${SQLITE3:-sqlite3}
SO=$PWD/sqlite_ext/migrate
[ -f "$SO.so" ] || { echo "bench/fleet.sh: build the module first (make sqlite)" >&2; exit 1; }
work=$(mktemp -d /tmp/migrate-bench-fleet.XXXXXX)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
now_ms() { date +%s%3N; }

python3 bench/gen.py "$M" "$work/m" >/dev/null
DIR=$work/m/migrate

# fresh tenants: T empty files (an empty file is a new SQLite database)
fresh() {
  rm -rf "$work/t"
  mkdir "$work/t"
  local i
  for ((i = 0; i < T; i++)); do : >"$work/t/tenant$i.db"; done
}

# every tenant has M migrations recorded (dbmate records them in its own table)
check() {
  local bad=0 f
  if [ "$1" = dbmate ]; then
    for f in "$work"/t/*.db; do
      [ "$("$SQLITE3" "$f" 'SELECT count(*) FROM schema_migrations')" = "$M" ] || bad=$((bad + 1))
    done
  else
    bad=$("$SQLITE3" :memory: ".load $SO" \
      "SELECT count(*) FROM migrate_fleet_status('$DIR', '$work/t/*.db') WHERE state NOT IN ('current', 'summary')")
  fi
  [ "$bad" = 0 ] || { echo "bench/fleet.sh: $1 left $bad tenants behind" >&2; exit 1; }
}

run_fleet() { # workers
  "$SQLITE3" :memory: ".load $SO" "SELECT migrate_set('fleet_workers', $1)" \
    "SELECT applied FROM migrate_fleet('$DIR', '$work/t/*.db') WHERE path IS NULL" >"$work/out"
  [ "$(tail -1 "$work/out")" = $((T * M)) ] || { echo "fleet applied $(cat "$work/out")" >&2; exit 1; }
}

run_loop() {
  local f
  for f in "$work"/t/*.db; do
    "$SQLITE3" "$f" ".load $SO" "SELECT migrate_apply('$DIR')" >/dev/null
  done
}

DBMATE=
if command -v npm >/dev/null &&
  npm install --prefix "$work/npm" --no-audit --no-fund --loglevel=error dbmate@2.36.0 \
    >"$work/npm.log" 2>&1 &&
  "$work/npm/node_modules/.bin/dbmate" --version >/dev/null 2>&1; then
  DBMATE=$work/npm/node_modules/.bin/dbmate
fi

run_dbmate() {
  local f
  for f in "$work"/t/*.db; do
    "$DBMATE" --url "sqlite:$f" --migrations-dir "$work/m/dbmate/db/migrations" \
      --no-dump-schema up >/dev/null
  done
}

# time_case <name> <runs> <command...>: runs from fresh tenants; the median in ms
declare -A MEDIAN
time_case() {
  local name=$1 runs=$2 r t0 times=()
  shift 2
  for ((r = 0; r < runs; r++)); do
    fresh
    t0=$(now_ms)
    "$@"
    times+=($(($(now_ms) - t0)))
    check "$name"
  done
  MEDIAN[$name]=$(printf '%s\n' "${times[@]}" | median)
}

echo "tenants: $T, migrations: $M, runs: $RUNS (median; dbmate 1), cores: $(nproc), SQLite $("$SQLITE3" --version | cut -d' ' -f1)"
time_case fleet "$RUNS" run_fleet 0
time_case fleet_1 "$RUNS" run_fleet 1
time_case loop "$RUNS" run_loop
# dbmate takes most of a second per file here: one run
[ -n "$DBMATE" ] && time_case dbmate 1 run_dbmate
printf '%-44s %10s %10s\n' case "ms" "vs fleet"
printf '%-44s %10s %10s\n' "migrate_fleet (one worker per core)" "${MEDIAN[fleet]}" 1.0x
printf '%-44s %10s %10s\n' "migrate_fleet (fleet_workers 1)" "${MEDIAN[fleet_1]}" \
  "$(ratio "${MEDIAN[fleet_1]}" "${MEDIAN[fleet]}")"
printf '%-44s %10s %10s\n' "shell loop: sqlite3 ... migrate_apply" "${MEDIAN[loop]}" \
  "$(ratio "${MEDIAN[loop]}" "${MEDIAN[fleet]}")"
if [ -n "$DBMATE" ]; then
  printf '%-44s %10s %10s\n' "shell loop: dbmate up" "${MEDIAN[dbmate]}" \
    "$(ratio "${MEDIAN[dbmate]}" "${MEDIAN[fleet]}")"
else
  echo "dbmate: not installed (npm install dbmate failed or npm is missing)"
fi
