# Helpers of the reliability tests; sourced by every part (tests/reliability/*.sh).
# shellcheck shell=bash disable=SC2034  # variables set here are used by the parts
#
# A part prints "ok - NAME" or "not ok - NAME" (followed by "#"-prefixed details) per check
# through check_begin/check_end, and records figures for REPORT.md with stat KEY VALUE.
#
# Environment (exported by run.sh): REL_ROOT (the repository), REL_WORK (a scratch folder the
# part may fill), REL_STATS (the file stat appends to), REL_SEED (the seed of every random
# choice), MIGRATE_SO (the SQLite extension, without .so), CRASH_DRIVER, and for the PostgreSQL
# parts PGHOST/PGPORT/PGUSER/PGDATABASE of a running cluster.

# check_begin / fail / expect_* / check_end (tests/lib/assert.sh); pg_q and pg_q_quiet
# (tests/pg/cluster.sh).
REL_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../lib/assert.sh
. "$REL_TESTS/lib/assert.sh"
# shellcheck source=../pg/cluster.sh
. "$REL_TESTS/pg/cluster.sh"

REL_SEED=${REL_SEED:-20240601}
SQLITE3=${SQLITE3:-sqlite3}

# known_bug NAME WHAT: the check of NAME failed only the way a known bug (listed in the report)
# makes it fail. Printed as "not ok - NAME # TODO known bug: WHAT", which run.sh counts apart
# from failures; with REL_STRICT=1 it is an ordinary failure.
known_bug() {
  if [ "${REL_STRICT:-0}" = 1 ]; then
    echo "not ok - $1"
    echo "#   known bug: $2"
    return 1
  fi
  echo "not ok - $1 # TODO known bug: $2"
  return 0
}

# stat KEY VALUE: a figure for the report (the last value of a key wins).
stat() {
  printf '%s=%s\n' "$1" "$2" >>"$REL_STATS"
}

# sqlite_shell DB [SQL...]: sqlite3 with the extension loaded; -bail, batch; each SQL argument in turn.
sqlite_shell() {
  local db=$1
  shift
  "$SQLITE3" -batch -bail -cmd ".load $MIGRATE_SO" "$db" "$@"
}

# Milliseconds since the epoch.
now_ms() {
  local t
  t=$(date +%s%N)
  echo $((t / 1000000))
}

# A deterministic pseudo-random number in [0, $1): an LCG seeded from REL_SEED and a label,
# so adding one choice does not shift every other.
# rand_below N LABEL
rand_below() {
  local n=$1 label=$2 h
  h=$(printf '%s:%s' "$REL_SEED" "$label" | cksum | cut -d' ' -f1)
  echo $((h % n))
}

# Stratified points: M distinct-ish numbers in [lo, hi], one drawn in each of M equal strata.
# strata LO HI M LABEL
strata() {
  local lo=$1 hi=$2 m=$3 label=$4 i span a b
  [ "$hi" -lt "$lo" ] && return
  span=$((hi - lo + 1))
  [ "$m" -gt "$span" ] && m=$span
  for ((i = 0; i < m; i++)); do
    a=$((lo + span * i / m))
    b=$((lo + span * (i + 1) / m - 1))
    echo $((a + $(rand_below $((b - a + 1)) "$label:$i")))
  done
}

# write_migration DIR K NAME UP DOWN: migration K as one of the three layouts in turn (K mod 3):
# a .up.sql/.down.sql pair, a dbmate-style file with both sections, or a single up file.
write_migration() {
  local dir=$1 k=$2 name=$3 up=$4 down=$5
  case $((k % 3)) in
    0) printf '%s\n' "$up" >"$dir/$name.up.sql"
       printf '%s\n' "$down" >"$dir/$name.down.sql" ;;
    1) printf -- '-- migrate:up\n%s\n\n-- migrate:down\n%s\n' "$up" "$down" >"$dir/$name.sql" ;;
    2) printf '%s\n' "$up" >"$dir/$name.sql" ;;
  esac
}
