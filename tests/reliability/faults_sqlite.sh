#!/usr/bin/env bash
# Fault injection on SQLite (fault_driver.c): each call below is run again and again, failing
# the Nth allocation (malloc: every one from the Nth on), the Nth file operation (io: open, read,
# write, truncate, sync, size, delete fail once with their SQLITE_IOERR_* code) or the Nth write
# (full: SQLITE_FULL), for N = 1, 2, 3, ... until the call runs whole without meeting its fault.
# After each run: success or an error with a message; integrity_check ok; the database exactly
# as before the call or as after a clean run; the same call again ends where a clean run ends;
# every allocation freed. The calls:
#   - migrate_apply of 10 migrations in the three layouts; migrate_to down to '0' and to a
#     middle version and back up; migrate_add_unique 'keep_first';
#   - migrate_check of 5 pending migrations: a rehearsal must leave the database exactly as it
#     was whatever happens, and a success whose report differs from a clean run's must name the
#     fault (a migration it reports failed); a cache of 2 pages makes it spill to the journal
#     and the database file, so its rollback has work to do;
#   - migrate_apply of 5 migrations after the schema drifted (drift = warn): the drift check
#     reads the last fingerprint and the call records a new one in migrate_schema_history;
#   - migrate_set_not_null with a fill and with on_null 'quarantine', migrate_add_column with a
#     fill, migrate_rebuild dropping a column: foreign keys on, a table referencing the rebuilt
#     one with ON DELETE CASCADE (no cascade may fire), and enforcement must be on again after
#     every run (FAULT_PROBE); the call again is not required to succeed once it was kept
#     (FAULT_ONCE: the column exists then);
#   - migrate_fleet over 3 files (two new, one at 0005) with one worker, and in the thorough
#     mode with two. The fleet's connections allocate through the same SQLite allocator and do
#     their file operations through the same default VFS, on the workers' threads too (the
#     driver counts atomically), so a fault lands in whichever file the Nth operation belongs
#     to. Each file is checked on its own, opened anew: integrity ok, exactly as before or as
#     after its own migrations, as after when the call's row says migrated, an error in the row
#     when it says failed; and after the call again every file is as after a clean run.
#
# Fast by default: every I/O point, about FAULT_MALLOC_POINTS (150) allocation points spread
# over each call, and for the fleet (30 migrations over three files) about FAULT_FLEET_POINTS
# (40) points of each kind; the add_column and rebuild loops also fail single allocations, at
# about FAULT_ONCE_POINTS (800) points. REL_FAULTS_FULL=1 (make reliability-full): every point
# (the fleet's allocations: about FAULT_FLEET_FULL_POINTS, 1000, of some 17,000), allocations
# failing once
# as well, the fleet with two workers too, and the loops again in WAL mode. One loop also runs
# under valgrind when it is installed (REL_FAULTS_VALGRIND=0 skips it); the thorough mode adds
# the fleet with two workers under valgrind. The databases live in a folder on /dev/shm when
# there is one (memory: the syncs cost nothing, the operations counted are the same);
# FAULT_WORK_BASE chooses another place.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

FULL=${REL_FAULTS_FULL:-0}
MALLOC_POINTS=${FAULT_MALLOC_POINTS:-150}
FLEET_POINTS=${FAULT_FLEET_POINTS:-40}
FLEET_FULL_POINTS=${FAULT_FLEET_FULL_POINTS:-1000}
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

# loop LABEL KIND TEMPLATE SQL [NAME=VALUE...]: one loop, with settings of the driver
# (FAULT_SETUP, FAULT_PROBE, FAULT_ONCE, FAULT_FILES, FAULT_POINTS); prints its check line and
# records its figures
loop() {
  local label=$1 kind=$2 tpl=$3 sql=$4 out rc line points open extra=(env)
  shift 4
  if [ "$FULL" != 1 ] && { [ "$kind" = malloc ] || [ "$kind" = malloc-once ]; }; then
    extra+=(FAULT_POINTS="$MALLOC_POINTS")
  fi
  extra+=("$@")
  check_begin "sqlite faults: $label, $kind"
  out=$("${extra[@]}" "$FAULT_DRIVER" "$kind" "$tpl" work.db "$MIGRATE_SO" "$sql" 2>&1)
  rc=$?
  line=$(printf '%s\n' "$out" | tail -n 1)
  points=0 open=0
  if [[ $line != points* ]]; then
    fail "the driver stopped (exit status $rc): $(printf '%s\n' "$out" | tail -n 5)"
  else
    [ "$rc" -eq 0 ] || fail "$(printf '%s\n' "$out" | grep '^FAIL ' | head -n 20)"
    points=$(awk '{ print $2 }' <<<"$line")
    open=$(sed -n 's/.* left_open \([0-9]*\) .*/\1/p' <<<"$line")
    [ "$points" -ge 1 ] || fail "no injection point was reached"
  fi
  check_end || return 1
  echo "# $label, $kind: $(printf '%s\n' "$out" | sed -n 's/.*, \([0-9]*\) injection points$/\1 points in a clean run/p' | tail -n 1), stride $(printf '%s\n' "$out" | sed -n 's/^stride //p'): $line"
  printf '%s\n' "$out" | sed -n "s/^file \\(.*\\)/# $label, $kind: file \\1/p"
  # left_open: runs that ran out of SQLite's memory, could not roll back before the calling
  # statement ended, and whose COMMIT the driver then saw refused (the database as before)
  [ "${open:-0}" -gt 0 ] && echo "# $label, $kind: $open runs left the transaction open; a COMMIT was refused in each and kept nothing"
  local key=${label//[^a-z0-9]/_}_${kind//-/_}
  stat "sqlite_faults_${key}_points" "$points"
  stat "sqlite_faults_${key}_open" "${open:-0}"
  FAULT_POINTS_TOTAL=$((FAULT_POINTS_TOTAL + points))
}

# On /dev/shm when there is one: the same operations, without the cost of real syncs.
BASE=${FAULT_WORK_BASE:-}
if [ -z "$BASE" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  BASE=/dev/shm
fi
W=$(mktemp -d "${BASE:-$REL_WORK}/migrate-faults.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 143' TERM # timeout ends the part: the EXIT trap still cleans up
trap 'exit 130' INT
cd "$W" || exit 1
gen m3 3
gen m2 2
FAULT_POINTS_TOTAL=0

# The column changes: a table of 200 rows with NULLs, an index, a trigger, a column to drop and
# a table that references it (ON DELETE CASCADE); a table no other references, to quarantine.
COLS_SQL=(
  "CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, old TEXT)"
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200)
   INSERT INTO u (name, email, old) SELECT 'User ' || x,
     CASE WHEN x % 3 THEN 'user' || x || '@example.com' END, CASE WHEN x % 50 = 0 THEN 'v' || x END FROM c"
  "CREATE INDEX u_name ON u (name)"
  "CREATE TRIGGER u_touch AFTER UPDATE OF name ON u BEGIN UPDATE keep SET x = x + 1; END"
  "CREATE TABLE orders (id INTEGER PRIMARY KEY, u_id INTEGER REFERENCES u (id) ON DELETE CASCADE, total INTEGER)"
  "INSERT INTO orders (u_id, total) SELECT id, id * 10 FROM u WHERE id % 4 = 0"
  "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag TEXT)"
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200)
   INSERT INTO notes (body, tag) SELECT 'note ' || x, CASE WHEN x % 5 THEN 't' || (x % 7) END FROM c"
  "CREATE INDEX notes_tag ON notes (tag)"
)
FK=(FAULT_SETUP="PRAGMA foreign_keys = ON" FAULT_PROBE="PRAGMA foreign_keys" FAULT_ONCE=1)
SET_NOT_NULL_FILL="SELECT migrate_set_not_null('u', 'email', 'lower(name) || ''@example.com''')"
QUARANTINE="SELECT migrate_set_not_null('notes', 'tag', NULL, 'quarantine')"
ADD_COLUMN="SELECT migrate_add_column('u', 'score', 'integer', 'id * 2', '0')"
REBUILD="SELECT migrate_rebuild('u', '(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT COLLATE NOCASE)', 'old')"
# the fleet's result: one field per file, in path order (the order of FAULT_FILES)
FLEET_SQL="SELECT group_concat(state || coalesce(':' || error, ''), char(30)) FROM
  (SELECT state, error FROM migrate_fleet('m3', 'fleet/*.db') WHERE path IS NOT NULL ORDER BY path)"
mkdir -p fleet

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
  template "half-$mode.db" "$mode" "SELECT migrate_apply('m3', '0005')"
  template "drift-$mode.db" "$mode" "SELECT migrate_apply('m3', '0005')" "CREATE INDEX keep_x ON keep (x)"
  template "cols-$mode.db" "$mode" "${COLS_SQL[@]}"
  template "fleet-a-$mode.db" "$mode"
  template "fleet-c-$mode.db" "$mode" "UPDATE keep SET x = 3" "SELECT migrate_apply('m3', '0005')"
  files="fleet-a-$mode.db=fleet/a.db;fleet-a-$mode.db=fleet/b.db;fleet-c-$mode.db=fleet/c.db"
  for kind in "${kinds[@]}"; do
    loop "apply 10 migrations$sfx" "$kind" "empty-$mode.db" "SELECT migrate_apply('m3')"
    loop "migrate_to 0$sfx" "$kind" "all-$mode.db" "SELECT migrate_to('m2', '0')"
    loop "migrate_to 0005$sfx" "$kind" "all-$mode.db" "SELECT migrate_to('m2', '0005')"
    loop "migrate_to 0010 after 0$sfx" "$kind" "down-$mode.db" "SELECT migrate_to('m2', '0010')"
    loop "add_unique keep_first$sfx" "$kind" "dups-$mode.db" "SELECT migrate_add_unique('items', 'email', NULL, 'keep_first')"
    loop "check 5 migrations$sfx" "$kind" "half-$mode.db" "SELECT migrate_check('m3')" FAULT_SETUP="PRAGMA cache_size = 2"
    loop "apply after drift$sfx" "$kind" "drift-$mode.db" "SELECT migrate_apply('m3')"
    loop "set_not_null fill$sfx" "$kind" "cols-$mode.db" "$SET_NOT_NULL_FILL" "${FK[@]}"
    loop "set_not_null quarantine$sfx" "$kind" "cols-$mode.db" "$QUARANTINE" "${FK[@]}"
    loop "add_column fill$sfx" "$kind" "cols-$mode.db" "$ADD_COLUMN" "${FK[@]}"
    loop "rebuild drop_columns$sfx" "$kind" "cols-$mode.db" "$REBUILD" "${FK[@]}"
    fleet_points=$FLEET_POINTS
    if [ "$FULL" = 1 ]; then
      fleet_points=
      [ "$kind" = malloc ] || [ "$kind" = malloc-once ] && fleet_points=$FLEET_FULL_POINTS
    fi
    loop "fleet 3 files$sfx" "$kind" "empty-$mode.db" "$FLEET_SQL" FAULT_FILES="$files" \
      FAULT_SETUP="SELECT migrate_set('fleet_workers', 1)" ${fleet_points:+FAULT_POINTS=$fleet_points}
    if [ "$FULL" = 1 ]; then
      loop "fleet 3 files 2 workers$sfx" "$kind" "empty-$mode.db" "$FLEET_SQL" FAULT_FILES="$files" \
        FAULT_SETUP="SELECT migrate_set('fleet_workers', 2)" ${fleet_points:+FAULT_POINTS=$fleet_points}
    fi
  done
  # One allocation failing, not every one from it on: SQLite may then roll the whole transaction
  # back by itself and the call's later statements must not run, and commit, on their own. The
  # fast mode runs these two with a finer stride (FAULT_ONCE_POINTS); the thorough one, above.
  if [ "$FULL" != 1 ]; then
    loop "add_column fill$sfx" malloc-once "cols-$mode.db" "$ADD_COLUMN" "${FK[@]}" \
      FAULT_POINTS="${FAULT_ONCE_POINTS:-800}"
    loop "rebuild drop_columns$sfx" malloc-once "cols-$mode.db" "$REBUILD" "${FK[@]}" \
      FAULT_POINTS="${FAULT_ONCE_POINTS:-800}"
  fi
done
stat sqlite_faults_mode "$([ "$FULL" = 1 ] && echo thorough || echo fast)"
stat sqlite_faults_points "$FAULT_POINTS_TOTAL"

# valgrind_loop CHECK-NAME [NAME=VALUE...] -- KIND TEMPLATE SQL: one loop under valgrind, no
# leak and no error; adds its points to VG_POINTS
VG_POINTS=0
valgrind_loop() {
  local name=$1 env_args=() out rc line
  shift
  while [ "$1" != -- ]; do
    env_args+=("$1")
    shift
  done
  shift
  check_begin "$name"
  out=$(env FAULT_POINTS="${FAULT_VALGRIND_POINTS:-25}" "${env_args[@]}" valgrind -q --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    "$FAULT_DRIVER" "$1" "$2" work.db "$MIGRATE_SO" "$3" 2>&1)
  rc=$?
  [ "$rc" -eq 0 ] || fail "exit status $rc: $(printf '%s\n' "$out" | grep -v '^KNOWN' | head -n 40)"
  line=$(printf '%s\n' "$out" | tail -n 1)
  expect_match "summary" '^points [0-9]+ ' "$line"
  check_end
  [[ $line == points* ]] && VG_POINTS=$((VG_POINTS + $(awk '{ print $2 }' <<<"$line")))
}

# The driver frees everything it and SQLite allocated: one loop under valgrind proves it; the
# thorough mode adds the fleet with two workers, whose threads allocate too.
if [ "${REL_FAULTS_VALGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
  valgrind_loop "sqlite faults: add_unique keep_first, malloc, under valgrind (no leak, no error)" -- \
    malloc dups-delete.db "SELECT migrate_add_unique('items', 'email', NULL, 'keep_first')"
  if [ "$FULL" = 1 ]; then
    valgrind_loop "sqlite faults: fleet 3 files 2 workers, malloc, under valgrind (no leak, no error)" \
      FAULT_FILES="fleet-a-delete.db=fleet/a.db;fleet-a-delete.db=fleet/b.db;fleet-c-delete.db=fleet/c.db" \
      FAULT_SETUP="SELECT migrate_set('fleet_workers', 2)" -- malloc empty-delete.db "$FLEET_SQL"
  fi
  stat sqlite_faults_valgrind_points "$VG_POINTS"
fi
echo "# fault injection ($([ "$FULL" = 1 ] && echo thorough || echo fast)): $FAULT_POINTS_TOTAL injection points"
