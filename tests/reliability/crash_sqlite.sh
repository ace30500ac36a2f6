#!/usr/bin/env bash
# Crashes on SQLite: one migrate_apply of 60 migrations (some slow: recursive-CTE inserts of
# CRASH_ROWS rows, copies, indexes) is killed with SIGKILL at many points, in rollback-journal
# (DELETE) and WAL mode. The points are exact and reproducible (crash_driver.c): before chosen
# statements (between migrations, before RELEASE and COMMIT), at progress ticks inside statements,
# and before chosen file operations (cache spills, journal and WAL writes, syncs, the journal's
# deletion, the checkpoint: the commit itself); plus plain external SIGKILLs after seeded delays.
#
# After each kill: PRAGMA integrity_check is ok; the database is exactly as before the call or
# exactly as after it (tables t_* and history rows agree: 5 and 5, or 65 and 65); a fresh
# migrate_apply finishes the job, and the result equals a clean run's.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

CRASH_ROWS=${CRASH_ROWS:-6000}
TOTAL=65 # migrations in the folder
BEFORE=5 # applied before the killed call

# gen_migrations DIR: the folder, mixing the layouts (pairs, sections, plain files).
gen_migrations() {
  local dir=$1 k v t body down
  mkdir -p "$dir"
  for ((k = 1; k <= TOTAL; k++)); do
    printf -v v '%04d' "$k"
    t="t_$v"
    body="CREATE TABLE $t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT);"
    case $((k % 10)) in
      3) body+="
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $CRASH_ROWS)
INSERT INTO $t (n, s) SELECT x, printf('row %08d of $t', x) FROM c;
CREATE INDEX ${t}_n ON $t (n);" ;;
      6) printf -v src 't_%04d' $((k - 3))
         body+="
INSERT INTO $t (n, s) SELECT n * 2, upper(s) FROM $src;
CREATE UNIQUE INDEX ${t}_s ON $t (s);" ;;
      9) body+="
INSERT INTO $t (n, s) VALUES ($k, 'a'), ($k + 1, 'b;c'), ($k + 2, '-- not a comment');
ALTER TABLE $t ADD COLUMN extra TEXT DEFAULT 'x';
CREATE VIEW v_$v AS SELECT n, s FROM $t WHERE n > 0;
CREATE TRIGGER tr_$v AFTER INSERT ON $t BEGIN UPDATE $t SET extra = 'y' WHERE id = new.id; END;
INSERT INTO $t (n, s) VALUES (0, 'after trigger');" ;;
      *) body+="
INSERT INTO $t (n, s) VALUES ($k, 'migration $k');" ;;
    esac
    write_migration "$dir" "$k" "${v}_create_$t" "$body" "DROP TABLE $t;"
  done
}

# fingerprint DB: the schema, every t_* table's row count and sum, and the history as recorded
# (without times), on stdout.
fingerprint() {
  local db=$1 tables q t
  "$SQLITE3" -batch -bail "$db" \
    "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name;" || return 1
  tables=$("$SQLITE3" -batch -bail "$db" \
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 't_[0-9]*' ORDER BY name") || return 1
  q=
  for t in $tables; do
    q+="SELECT '$t', count(*), total(n), total(length(s)) FROM $t;"
  done
  if "$SQLITE3" -batch "$db" "SELECT 1 FROM sqlite_schema WHERE name = 'migrate_history'" | grep -q 1; then
    q+="SELECT version, name, direction, checksum, down_checksum, script, success FROM migrate_history ORDER BY id;"
  fi
  [ -z "$q" ] || "$SQLITE3" -batch -bail "$db" "$q"
}

# counts DB: "<t_* tables> <successful up rows in history>"
counts() {
  "$SQLITE3" -batch -bail "$1" \
    "SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name GLOB 't_[0-9]*')
            || ' ' || (SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success)"
}

fresh_copy() { # fresh_copy TEMPLATE DB
  rm -f "$2" "$2-journal" "$2-wal" "$2-shm"
  cp "$1" "$2"
}

# One kill point: run the call, let it die, check the wreck, finish the job, compare.
# kill_point MODE LABEL KIND:N|ext:MS
kill_point() {
  local mode=$1 label=$2 point=$3
  local db="$mode/kill.db" rc pid fp out integrity
  fresh_copy "$mode/template.db" "$db"
  # (the braces keep bash's "Killed" job report off the output)
  if [[ $point == ext:* ]]; then
    {
      "$CRASH_DRIVER" "$db" "$MIGRATE_SO" m >/dev/null 2>"$mode/kill.err" &
      pid=$!
      sleep "$(printf '0.%03d' "${point#ext:}")"
      kill -KILL "$pid" 2>/dev/null
      wait "$pid"
      rc=$?
    } 2>/dev/null
  else
    {
      "$CRASH_DRIVER" "$db" "$MIGRATE_SO" m "$point" >/dev/null 2>"$mode/kill.err"
      rc=$?
    } 2>/dev/null
    # a point past the end of this run (counts can differ by one or two from the clean run's,
    # as the history rows' times differ) is checked like a late external kill
    if [ "$rc" -ne 137 ] && [ "$rc" -ne 0 ]; then
      fail "$label ($point): the driver failed (exit status $rc): $(cat "$mode/kill.err")"
      return 1
    fi
  fi
  local late=0
  [ "$rc" -eq 0 ] && late=1 # the kill came after the end: still checked

  integrity=$("$SQLITE3" -batch "$db" 'PRAGMA integrity_check' 2>&1)
  expect_eq "$label ($point): integrity_check after the kill" ok "$integrity"
  fp=$(fingerprint "$db" 2>&1)
  local state
  if [ "$fp" == "$PRE_FP" ]; then
    state=before
  elif [ "$fp" == "$FULL_FP" ]; then
    state=after
  else
    state=mixed
    fail "$label ($point): the database is neither as before the call nor as after it; tables and history: $(counts "$db" 2>&1)"$'\n'"$(diff <(printf '%s\n' "$PRE_FP") <(printf '%s\n' "$fp") | head -20)"
  fi
  local c
  c=$(counts "$db" 2>&1)
  case $c in
    "$BEFORE $BEFORE" | "$TOTAL $TOTAL") ;;
    *) fail "$label ($point): tables and history rows disagree or are partial: $c" ;;
  esac
  out=$(sqlite_shell "$db" "PRAGMA busy_timeout = 10000" "SELECT migrate_apply('m')" 2>&1)
  case $state in
    before) expect_eq "$label ($point): migrate_apply after the kill" "10000
$((TOTAL - BEFORE))" "$out" ;;
    after) expect_eq "$label ($point): migrate_apply after the kill" "10000
0" "$out" ;;
  esac
  expect_eq "$label ($point): integrity_check at the end" ok "$("$SQLITE3" -batch "$db" 'PRAGMA integrity_check' 2>&1)"
  fp=$(fingerprint "$db" 2>&1)
  [ "$fp" == "$FULL_FP" ] || fail "$label ($point): the final state differs from a clean run's:"$'\n'"$(diff <(printf '%s\n' "$FULL_FP") <(printf '%s\n' "$fp") | head -20)"
  KP_LATE=$late
  if [ "$late" -eq 0 ]; then
    KILLED_IN_STATE[$state]=$((${KILLED_IN_STATE[$state]:-0} + 1))
  else
    LATE_EXTERNAL=$((LATE_EXTERNAL + 1))
  fi
  return 0
}

run_mode() {
  local mode=$1 journal=$2
  mkdir -p "$mode"
  check_begin "sqlite crash ($mode): setup and clean run"
  rm -f "$mode/template.db"
  local out
  out=$(sqlite_shell "$mode/template.db" "PRAGMA journal_mode = $journal" "SELECT migrate_apply('m', '$BEFORE')" 2>&1)
  expect_eq "template" "$journal
$BEFORE" "$out"
  PRE_FP=$(fingerprint "$mode/template.db")
  fresh_copy "$mode/template.db" "$mode/clean.db"
  local t0 t1
  t0=$(now_ms)
  STMT_LOG="$mode/stmts.log" IO_LOG="$mode/io.log" "$CRASH_DRIVER" "$mode/clean.db" "$MIGRATE_SO" m >"$mode/counts" 2>&1 ||
    fail "clean run failed: $(cat "$mode/counts")"
  t1=$(now_ms)
  local run_ms=$((t1 - t0))
  expect_eq "clean run result" "$((TOTAL - BEFORE))" "$(awk '$1 == "result" { print $2 }' "$mode/counts")"
  FULL_FP=$(fingerprint "$mode/clean.db")
  expect_eq "clean run tables and history" "$TOTAL $TOTAL" "$(counts "$mode/clean.db" 2>&1)"
  local stmts vm io io_commit
  stmts=$(awk '$1 == "stmts" { print $2 }' "$mode/counts")
  vm=$(awk '$1 == "vm" { print $2 }' "$mode/counts")
  io=$(awk '$1 == "io" { print $2 }' "$mode/counts")
  io_commit=$(awk '$1 == "io_commit" { print $2 }' "$mode/counts")
  [ "${io_commit:--1}" -ge 0 ] || fail "the clean run never reached COMMIT"
  check_end || return 1
  echo "# $mode: clean run ${run_ms} ms, $stmts statements, $vm progress ticks, $io file operations ($((io - io_commit)) from COMMIT on)"

  # Kill points, chosen deterministically from the clean run's counts.
  local points=() labels=() n hist first_begin release commit i k
  mapfile -t hist < <(awk -F'\t' '$2 ~ /^INSERT INTO "main"."migrate_history"/ { print $1 }' "$mode/stmts.log")
  first_begin=$(awk -F'\t' '$2 == "BEGIN IMMEDIATE" { print $1; exit }' "$mode/stmts.log")
  release=$(awk -F'\t' '$2 ~ /^RELEASE/ { n = $1 } END { print n }' "$mode/stmts.log")
  commit=$(awk -F'\t' '$2 == "COMMIT" { n = $1 } END { print n }' "$mode/stmts.log")
  points+=("stmt:$first_begin") labels+=("before BEGIN IMMEDIATE")
  for i in $(strata 0 $((${#hist[@]} - 1)) 3 "$mode:hist"); do
    points+=("stmt:${hist[i]}") labels+=("before recording migration $((BEFORE + i + 1))")
  done
  for i in $(strata 0 $((${#hist[@]} - 2)) 3 "$mode:between"); do
    points+=("stmt:$((hist[i] + 1))") labels+=("between migrations $((BEFORE + i + 1)) and $((BEFORE + i + 2))")
  done
  points+=("stmt:$release") labels+=("before RELEASE")
  points+=("stmt:$commit") labels+=("before COMMIT")
  for n in $(strata 1 "$vm" 10 "$mode:vm"); do
    points+=("vm:$n") labels+=("inside a statement")
  done
  for n in $(strata 1 "$io_commit" 5 "$mode:io"); do
    points+=("io:$n") labels+=("at a file operation before COMMIT")
  done
  # the commit: the first operation of each kind on each file, the last write before the first
  # sync of a file (the commit record, the last journal page), the very last operation, a few more
  local op file seen=" " prev_write=
  declare -A first_sync=()
  while IFS=$'\t' read -r n op file; do
    if [[ $seen != *" $op/$file "* ]]; then
      seen+="$op/$file "
      points+=("io:$n") labels+=("before the commit's first $op of the $file file")
    fi
    if [ "$op" = sync ] && [ -z "${first_sync[$file]:-}" ] && [ -n "$prev_write" ]; then
      first_sync[$file]=1
      points+=("io:$prev_write") labels+=("before the commit's last write ahead of the first $file sync")
    fi
    [ "$op" = write ] && prev_write=$n
  done <"$mode/io.log"
  points+=("io:$io") labels+=("before the last file operation of the call")
  for n in $(strata $((io_commit + 1)) "$io" 3 "$mode:commit"); do
    points+=("io:$n") labels+=("at a file operation from COMMIT on")
  done
  points+=("stmt:$stmts") labels+=("after COMMIT returned, before the connection closed")
  for n in $(strata 1 $((run_ms * 3 / 4)) 4 "$mode:ext"); do
    [ "$n" -gt 999 ] && n=999
    points+=("ext:$n") labels+=("external SIGKILL after $n ms")
  done

  # the same point chosen twice is run once, under its first label
  local -A taken=()
  local uniq_points=() uniq_labels=()
  for k in "${!points[@]}"; do
    [ -n "${taken[${points[k]}]:-}" ] && continue
    taken[${points[k]}]=1
    uniq_points+=("${points[k]}") uniq_labels+=("${labels[k]}")
  done
  points=("${uniq_points[@]}") labels=("${uniq_labels[@]}")

  declare -gA KILLED_IN_STATE=()
  LATE_EXTERNAL=0
  local survived=0 killed=0 good
  for k in "${!points[@]}"; do
    check_begin "sqlite crash ($mode): kill ${labels[k]} (${points[k]})"
    KP_LATE=0
    kill_point "$mode" "${labels[k]}" "${points[k]}"
    check_end && good=1 || good=0
    # an external kill that came after the end was checked, but is no kill point
    if [ "$KP_LATE" = 0 ]; then
      killed=$((killed + 1))
      survived=$((survived + good))
    fi
  done
  echo "# $mode: $killed kill points: ${KILLED_IN_STATE[before]:-0} left the database as before the call, ${KILLED_IN_STATE[after]:-0} as after it, ${KILLED_IN_STATE[mixed]:-0} mixed; $LATE_EXTERNAL kills came after the end (checked, not counted)"
  check_begin "sqlite crash ($mode): at least 30 kill points landed"
  [ "$killed" -ge 30 ] || fail "only $killed of ${#points[@]} kill points killed the call"
  check_end
  stat "sqlite_crash_${mode}_points" "$killed"
  stat "sqlite_crash_${mode}_survived" "$survived"
  stat "sqlite_crash_${mode}_before" "${KILLED_IN_STATE[before]:-0}"
  stat "sqlite_crash_${mode}_after" "${KILLED_IN_STATE[after]:-0}"
}

W="$REL_WORK/crash-sqlite"
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 1
gen_migrations m
stat sqlite_crash_migrations "$((TOTAL - BEFORE))"
run_mode rollback delete
run_mode wal wal
