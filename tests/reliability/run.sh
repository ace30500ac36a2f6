#!/usr/bin/env bash
# The reliability suite: crashes, concurrency and hostile input, on SQLite and PostgreSQL.
#
#   tests/reliability/run.sh [PART...]
#
# PART is one of crash-sqlite faults-sqlite concurrency-sqlite soak-sqlite crash-pg concurrency-pg
# races hostile soak-pg (default: all; races and hostile use both engines).
# Needs the SQLite module (make sqlite; MIGRATE_SO overrides, without .so), the crash driver
# (build/reliability/crash_driver, built here when missing), the fault driver (likewise,
# build/reliability/fault_driver; REL_FAULTS_FULL=1 runs its thorough loops), and for the PostgreSQL parts the
# server: the extension is built and installed (REL_NO_INSTALL=1 skips that) and a throwaway
# cluster is started with tests/pg/cluster.sh and always stopped (crash-pg also stops it
# immediately and starts it again, many times).
#
# REL_FULL=1 is the thorough mode (make reliability-full): every fault-injection point, more
# SQLite and PostgreSQL kill points (REL_CRASH_FULL=1) and a 300 s soak (REL_SOAK_SECONDS,
# default 30).
#
# The SQLite and the PostgreSQL parts run side by side (REL_JOBS=1: one after the other); each
# part is bounded by REL_PART_TIMEOUT seconds (default 420). Everything random is seeded by
# REL_SEED (default 20240601).
#
# Output: "ok - ..." / "not ok - ..." per check, "#" comments with the figures, then the line
# "N passed, N failed"; exit status non-zero on failure. A check that fails only the way a
# known bug makes it fail prints "not ok - ... # TODO known bug: ..." and counts apart (listed
# in the report); REL_STRICT=1 counts those as failures. Writes tests/reliability/REPORT.md
# (tests/reliability/update-readme.sh copies it into README.md) when every part runs; when
# crash-sqlite and faults-sqlite both run without the others, only their blocks of it.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export REL_ROOT=$ROOT
export REL_SEED=${REL_SEED:-20240601}
export SQLITE3=${SQLITE3:-sqlite3}
export MIGRATE_SO=${MIGRATE_SO:-$ROOT/sqlite_ext/migrate}
export CRASH_DRIVER=${CRASH_DRIVER:-$ROOT/build/reliability/crash_driver}
export FAULT_DRIVER=${FAULT_DRIVER:-$ROOT/build/reliability/fault_driver}
PART_TIMEOUT=${REL_PART_TIMEOUT:-420}
START=$(date +%s)

if [ "${REL_FULL:-0}" = 1 ]; then
  export REL_FAULTS_FULL=1 REL_CRASH_FULL=1
  export REL_SOAK_SECONDS=${REL_SOAK_SECONDS:-300}
  PART_TIMEOUT=${REL_PART_TIMEOUT:-3600}
fi
REL_MODE=fast
[ "${REL_FULL:-0}" = 1 ] && REL_MODE=full
export REL_MODE

ALL_PARTS=(crash-sqlite faults-sqlite concurrency-sqlite soak-sqlite crash-pg concurrency-pg races hostile soak-pg)
PARTS=("$@")
[ ${#PARTS[@]} -eq 0 ] && PARTS=("${ALL_PARTS[@]}")

passed=0
failed=0
summary() { echo "$passed passed, $failed failed"; }
die() {
  echo "not ok - $1"
  failed=$((failed + 1))
  summary
  exit 1
}

case $MIGRATE_SO in
  /*) ;;
  *) MIGRATE_SO=$(cd "$(dirname "$MIGRATE_SO")" && pwd)/$(basename "$MIGRATE_SO") ;;
esac
[ -f "$MIGRATE_SO.so" ] || die "setup: $MIGRATE_SO.so is missing (make sqlite)"
command -v "$SQLITE3" >/dev/null || die "setup: the sqlite3 shell ($SQLITE3) is missing"
if [ ! -x "$CRASH_DRIVER" ]; then
  mkdir -p "$(dirname "$CRASH_DRIVER")"
  ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -g -o "$CRASH_DRIVER" "$HERE/crash_driver.c" -lsqlite3 ||
    die "setup: cannot build the crash driver"
fi
if [ ! -x "$FAULT_DRIVER" ]; then
  mkdir -p "$(dirname "$FAULT_DRIVER")"
  ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -g -o "$FAULT_DRIVER" "$HERE/fault_driver.c" -lsqlite3 ||
    die "setup: cannot build the fault driver"
fi

needs_pg=0
for p in "${PARTS[@]}"; do
  case $p in crash-pg | concurrency-pg | races | hostile | soak-pg) needs_pg=1 ;; esac
done

REL_WORK=$(mktemp -d /tmp/migrate-reliability.XXXXXX)
chmod 755 "$REL_WORK"
export REL_WORK
export REL_STATS="$REL_WORK/stats"
: >"$REL_STATS"
LOGS="$REL_WORK/logs"
mkdir -p "$LOGS"

# shellcheck source=../pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
cleanup() {
  local pid
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  cluster_stop
  chmod -R u+rwX "$REL_WORK" 2>/dev/null
  rm -rf "$REL_WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$needs_pg" = 1 ]; then
  if [ "${REL_NO_INSTALL:-0}" != 1 ]; then
    sudo=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=(sudo)
    { make -s -C "$ROOT/pg_ext" >/dev/null && "${sudo[@]}" make -s -C "$ROOT/pg_ext" install >/dev/null; } ||
      die "setup: building or installing the PostgreSQL extension failed"
  fi
  # the server's own client programs first: Debian's /usr/bin/psql is a Perl wrapper that costs
  # a tenth of a second per start, and the parts start thousands of them
  PATH="$PG_BINDIR:$PATH"
  export PATH
  cluster_start >"$REL_WORK/cluster.log" 2>&1 || die "setup: could not start a PostgreSQL cluster: $(cat "$REL_WORK/cluster.log")"
  export CLUSTER_DIR CLUSTER_OWNER PG_BINDIR # crash-pg restarts the server
fi

# run_part NAME: the part's script, bounded, output to its log
run_part() {
  local name=$1 rc=0
  case $name in
    crash-sqlite) # the apply and the column changes and fleet, two modes: up to 900 s on a busy machine
      timeout -k 10 "$((PART_TIMEOUT > 900 ? PART_TIMEOUT : 900))" bash "$HERE/crash_sqlite.sh" ;;
    faults-sqlite) timeout -k 10 "$PART_TIMEOUT" bash "$HERE/faults_sqlite.sh" ;;
    crash-pg) # 87 kill points (fast) each with recovery and checks: 5 to 10 s each on a quiet
      # machine, 17 s on one loaded 8 times over its 2 cores (1500 s were not enough there)
      timeout -k 10 "$((PART_TIMEOUT > 2400 ? PART_TIMEOUT : 2400))" bash "$HERE/crash_pg.sh" ;;
    concurrency-sqlite)
      timeout -k 10 "$PART_TIMEOUT" bash "$HERE/concurrency.sh" sqlite delete || rc=$?
      timeout -k 10 "$PART_TIMEOUT" bash "$HERE/concurrency.sh" sqlite wal || rc=$?
      return $rc ;;
    concurrency-pg) timeout -k 10 "$PART_TIMEOUT" bash "$HERE/concurrency.sh" pg ;;
    races) timeout -k 10 "$PART_TIMEOUT" bash "$HERE/races.sh" ;;
    soak-sqlite) timeout -k 10 "$PART_TIMEOUT" bash "$HERE/soak.sh" sqlite ;;
    soak-pg) timeout -k 10 "$PART_TIMEOUT" bash "$HERE/soak.sh" pg ;;
    hostile) timeout -k 10 "$PART_TIMEOUT" bash "$HERE/hostile.sh" ;;
    *) echo "not ok - unknown part $name"; return 1 ;;
  esac
}

# run_lane PART...: the parts one after the other, each into $LOGS/<part>.log (+ .rc)
run_lane() {
  local p
  for p in "$@"; do
    run_part "$p" >"$LOGS/$p.log" 2>&1
    echo $? >"$LOGS/$p.rc"
  done
}

lane_sqlite=() lane_pg=()
for p in "${PARTS[@]}"; do
  case $p in
    *-sqlite) lane_sqlite+=("$p") ;;
    *) lane_pg+=("$p") ;;
  esac
done
echo "# running: ${PARTS[*]} (work folder $REL_WORK, seed $REL_SEED)"
if [ "${REL_JOBS:-2}" = 1 ]; then
  run_lane "${lane_sqlite[@]}" "${lane_pg[@]}"
else
  run_lane "${lane_sqlite[@]}" &
  lane_a=$!
  run_lane "${lane_pg[@]}"
  wait "$lane_a"
fi

KNOWN_FILE="$REL_WORK/known"
: >"$KNOWN_FILE"
for p in "${PARTS[@]}"; do
  log="$LOGS/$p.log"
  rc=$(cat "$LOGS/$p.rc" 2>/dev/null || echo 1)
  cat "$log"
  ok=$(grep -c '^ok - ' "$log")
  bad=$(grep '^not ok - ' "$log" | grep -vc ' # TODO known bug: ')
  grep '^not ok - .* # TODO known bug: ' "$log" >>"$KNOWN_FILE"
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      echo "not ok - $p (stopped after $PART_TIMEOUT s)"
    else
      echo "not ok - $p (exit status $rc)"
    fi
    failed=$((failed + 1))
  fi
done

known=$(wc -l <"$KNOWN_FILE")
elapsed=$(($(date +%s) - START))
{
  echo "seed=$REL_SEED"
  echo "date=$(date -u +%Y-%m-%d)"
  echo "seconds=$elapsed"
  echo "mode=$REL_MODE"
} >>"$REL_STATS"
if [ ${#PARTS[@]} -eq ${#ALL_PARTS[@]} ]; then
  # kept, so report.sh can write REPORT.md again from them (report.sh tests STATS KNOWN)
  mkdir -p "$ROOT/build/reliability" && cp "$REL_STATS" "$KNOWN_FILE" "$ROOT/build/reliability/" 2>/dev/null
  "$HERE/report.sh" tests "$REL_STATS" "$KNOWN_FILE" || echo "# could not write REPORT.md"
elif [[ " ${PARTS[*]} " == *" crash-sqlite "* && " ${PARTS[*]} " == *" faults-sqlite "* ]]; then
  # the SQLite parts alone: their blocks of REPORT.md are written anew, saying so
  mkdir -p "$ROOT/build/reliability" && cp "$REL_STATS" "$ROOT/build/reliability/stats-sqlite" 2>/dev/null
  if "$HERE/report.sh" sqlite "$REL_STATS"; then
    echo "# REPORT.md: its SQLite crash and fault blocks written anew"
  else
    echo "# could not write the SQLite blocks of REPORT.md"
  fi
else
  echo "# (REPORT.md is written only when every part runs, or crash-sqlite and faults-sqlite both)"
fi
b=$(sed -n 's/^hostile_bad=//p' "$REL_STATS" | tail -n 1)
[ -n "$b" ] && echo "# bad inputs tried: $b, each on both engines"
echo "# $known checks show known bugs (TODO); ${elapsed} s"
summary
[ "$failed" -eq 0 ]
