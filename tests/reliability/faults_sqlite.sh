#!/usr/bin/env bash
# Fault injection on SQLite (fault_driver.c): each call below is run again and again, failing
# the Nth allocation (malloc: every one from the Nth on), the Nth file operation (io: open, read,
# write, truncate, sync, size, delete fail once with their SQLITE_IOERR_* code) or the Nth write
# (full: SQLITE_FULL), for N = 1, 2, 3, ... until the call runs whole without meeting its fault.
# After each run: success or an error with a message; integrity_check ok; the database exactly
# as before the call or as after a clean run; the same call again ends where a clean run ends;
# every allocation freed. The calls: migrate_apply of 10 migrations in the three layouts,
# migrate_to down to '0' and to a middle version and back up, migrate_add_unique 'keep_first'.
#
# Fast by default: every I/O point, about FAULT_MALLOC_POINTS (150) allocation points spread
# over each call. REL_FAULTS_FULL=1 (make reliability-full): every point, allocations failing
# once as well, and the loops again in WAL mode. One loop also runs under valgrind when it is
# installed (REL_FAULTS_VALGRIND=0 skips it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

FULL=${REL_FAULTS_FULL:-0}
MALLOC_POINTS=${FAULT_MALLOC_POINTS:-150}
FAULT_DRIVER=${FAULT_DRIVER:-$REL_ROOT/build/reliability/fault_driver}
TOTAL=10

# gen MIGS DIR LAYOUTS: 10 migrations, each a table with rows and an index; LAYOUTS 3 mixes the
# three layouts (a single up file has no down script), 2 only the reversible ones.
gen() {
  local dir=$1 layouts=$2 k v t
  mkdir -p "$dir"
  for ((k = 1; k <= TOTAL; k++)); do
    printf -v v '%04d' "$k"
    t="t_$v"
    local up="CREATE TABLE $t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT);
INSERT INTO $t (n, s) VALUES ($k, 'migration $k'), ($k + 1, 'b;c'), ($k + 2, '-- not a comment');
CREATE INDEX ${t}_n ON $t (n);"
    # k * 3 / 2 maps 1..10 onto layouts 0 and 1 only (pairs and sections) when reversible
    if [ "$layouts" = 3 ]; then
      write_migration "$dir" "$k" "${v}_create_$t" "$up" "DROP TABLE $t;"
    else
      write_migration "$dir" $((3 * (k % 2))) "${v}_create_$t" "$up" "DROP TABLE $t;"
    fi
  done
}

# template NAME JOURNAL SQL...: a database made with the extension, in that journal mode
template() {
  local db=$1 journal=$2
  shift 2
  rm -f "$db"
  sqlite_shell "$db" "PRAGMA journal_mode = $journal" "CREATE TABLE keep (x)" "INSERT INTO keep VALUES (1)" "$@" >/dev/null
}

# loop LABEL KIND TEMPLATE SQL: one loop; prints its check line and records its figures
loop() {
  local label=$1 kind=$2 tpl=$3 sql=$4 out rc line points extra=()
  [ "$kind" = malloc ] || [ "$kind" = malloc-once ] && [ "$FULL" != 1 ] && extra=(env FAULT_POINTS="$MALLOC_POINTS")
  check_begin "sqlite faults: $label, $kind"
  out=$("${extra[@]}" "$FAULT_DRIVER" "$kind" "$tpl" work.db "$MIGRATE_SO" "$sql" 2>&1)
  rc=$?
  line=$(printf '%s\n' "$out" | tail -n 1)
  if [[ $line != points* ]]; then
    fail "the driver stopped (exit status $rc): $(printf '%s\n' "$out" | tail -n 5)"
  else
    [ "$rc" -eq 0 ] || fail "$(printf '%s\n' "$out" | grep '^FAIL ' | head -n 20)"
    read -r _ points _ errors _ succ _ before _ after _ open _ failed <<<"$line"
    [ "$points" -ge 1 ] || fail "no injection point was reached"
  fi
  check_end || return 1
  echo "# $label, $kind: $(printf '%s\n' "$out" | sed -n 's/^clean result .*, \([0-9]*\) injection points/\1 points in a clean run/p'), stride $(printf '%s\n' "$out" | sed -n 's/^stride //p'): $line"
  # left_open: runs that ran out of SQLite's memory, could not roll back before the calling
  # statement ended, and whose COMMIT the driver then saw refused (the database as before)
  [ "${open:-0}" -gt 0 ] && echo "# $label, $kind: $open runs left the transaction open; a COMMIT was refused in each and kept nothing"
  local key=${label//[^a-z0-9]/_}_${kind//-/_}
  stat "sqlite_faults_${key}_points" "$points"
  stat "sqlite_faults_${key}_open" "${open:-0}"
  FAULT_POINTS_TOTAL=$((FAULT_POINTS_TOTAL + points))
}

W="$REL_WORK/faults-sqlite"
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 1
gen m3 3
gen m2 2
FAULT_POINTS_TOTAL=0

modes=(delete)
kinds=(malloc io full)
if [ "$FULL" = 1 ]; then
  modes=(delete wal)
  kinds=(malloc malloc-once io full)
fi
for mode in "${modes[@]}"; do
  sfx=
  [ "$mode" = wal ] && sfx=" (WAL)"
  template "empty-$mode.db" "$mode"
  template "all-$mode.db" "$mode" "SELECT migrate_apply('m2')"
  template "down-$mode.db" "$mode" "SELECT migrate_apply('m2')" "SELECT migrate_to('m2', '0')"
  template "dups-$mode.db" "$mode" "CREATE TABLE items (id INTEGER PRIMARY KEY, email TEXT, n INTEGER)" \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200)
     INSERT INTO items (email, n) SELECT 'user' || (x % 150) || '@example.com', x FROM c"
  for kind in "${kinds[@]}"; do
    loop "apply 10 migrations$sfx" "$kind" "empty-$mode.db" "SELECT migrate_apply('m3')"
    loop "migrate_to 0$sfx" "$kind" "all-$mode.db" "SELECT migrate_to('m2', '0')"
    loop "migrate_to 0005$sfx" "$kind" "all-$mode.db" "SELECT migrate_to('m2', '0005')"
    loop "migrate_to 0010 after 0$sfx" "$kind" "down-$mode.db" "SELECT migrate_to('m2', '0010')"
    loop "add_unique keep_first$sfx" "$kind" "dups-$mode.db" "SELECT migrate_add_unique('items', 'email', NULL, 'keep_first')"
  done
done
stat sqlite_faults_mode "$([ "$FULL" = 1 ] && echo thorough || echo fast)"
stat sqlite_faults_points "$FAULT_POINTS_TOTAL"

# The driver frees everything it and SQLite allocated: one loop under valgrind proves it.
if [ "${REL_FAULTS_VALGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
  check_begin "sqlite faults: add_unique keep_first, malloc, under valgrind (no leak, no error)"
  out=$(FAULT_POINTS=${FAULT_VALGRIND_POINTS:-25} valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect,possible "$FAULT_DRIVER" malloc dups-delete.db work.db \
    "$MIGRATE_SO" "SELECT migrate_add_unique('items', 'email', NULL, 'keep_first')" 2>&1)
  rc=$?
  [ "$rc" -eq 0 ] || fail "exit status $rc: $(printf '%s\n' "$out" | grep -v '^KNOWN' | head -n 40)"
  line=$(printf '%s\n' "$out" | tail -n 1)
  expect_match "summary" '^points [0-9]+ ' "$line"
  check_end
  stat sqlite_faults_valgrind_points "$(awk '{ print $2 }' <<<"$line")"
fi
echo "# fault injection ($([ "$FULL" = 1 ] && echo thorough || echo fast)): $FAULT_POINTS_TOTAL injection points"
