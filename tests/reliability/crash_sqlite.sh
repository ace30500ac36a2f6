#!/usr/bin/env bash
# Crashes on SQLite: one migrate_apply of 60 migrations (some slow: recursive-CTE inserts of
# CRASH_ROWS rows, copies, indexes) is killed with SIGKILL at many points, in rollback-journal
# (DELETE) and WAL mode. The points are exact and reproducible (crash_driver.c): before chosen
# statements (between migrations, before RELEASE and COMMIT), at progress ticks inside statements,
# and before chosen file operations (cache spills, journal and WAL writes, syncs, the journal's
# deletion, the checkpoint: the commit itself); plus plain external SIGKILLs after seeded delays.
#
# The apply's points include the drift fingerprint it records at the end: before the schema is
# read for it, while it is described (a progress tick), before its INSERT into
# migrate_schema_history.
#
# After each kill: PRAGMA integrity_check is ok; the database is exactly as before the call or
# exactly as after it (tables t_* and history rows agree: 5 and 5, or 65 and 65); a fresh
# migrate_apply finishes the job, and the result equals a clean run's.
#
# Then the column changes (migrate_rebuild, migrate_set_not_null, migrate_add_column) and
# migrate_fleet are killed the same ways, each in both modes (see "the column changes and the
# fleet" below). Fast by default (CRASH_CALL_STMTS, 8, of each call's writing statements;
# CRASH_CALL_VM, 3, progress ticks; CRASH_CALL_IO, 10, of the fleet's file operations);
# REL_CRASH_FULL=1 (make reliability-full): every writing statement, 10 ticks, 30 operations.
# Each mode must have at least 50 kill points in all.
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
  # the drift record: the schema read for the fingerprint, and its INSERT into
  # migrate_schema_history, after the last migration's history row
  local fp_read fp_insert fp_vm
  fp_insert=$(awk -F'\t' '$2 ~ /^INSERT INTO "main"."migrate_schema_history"/ { print $1; exit }' "$mode/stmts.log")
  fp_read=$(awk -F'\t' -v last="${hist[-1]}" -v ins="${fp_insert:-0}" \
    '$1 > last && $1 < ins && $2 ~ /sqlite_schema/ { n = $1 } END { print n }' "$mode/stmts.log")
  fp_vm=$(awk -F'\t' -v at="$fp_insert" '$1 == at { print $3 }' "$mode/stmts.log")
  check_begin "sqlite crash ($mode): the clean run recorded the drift fingerprint"
  { [ -n "$fp_insert" ] && [ -n "$fp_read" ]; } || fail "no INSERT into migrate_schema_history after a read of sqlite_schema"
  check_end
  if [ -n "$fp_insert" ] && [ -n "$fp_read" ]; then
    points+=("stmt:$fp_read") labels+=("before reading the schema for the drift fingerprint")
    points+=("stmt:$fp_insert") labels+=("before the drift fingerprint's INSERT into migrate_schema_history")
    [ -n "$fp_vm" ] && [ "$fp_vm" -ge 1 ] &&
      points+=("vm:$fp_vm") labels+=("describing the schema for the drift fingerprint (a progress tick)")
  fi
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

# --- the column changes and the fleet ---
#
# Each call below is killed the same ways in a folder of its own (MODE/NAME, on /dev/shm when
# there is one: a SIGKILL ends the process, not the machine, so memory loses nothing a disk
# would keep, and the syncs cost nothing; CRASH_WORK_BASE chooses another place): before each of
# its writing statements (CREATE, INSERT, UPDATE, DELETE, DROP, ALTER, BEGIN, SAVEPOINT,
# RELEASE, COMMIT), at progress ticks inside them, before file operations ahead of the commit
# and of the commit itself, and by an external SIGKILL; the fleet, whose connections are its
# own, before file operations spread over its run. The state is compared whole (fault_driver
# dump: integrity_check, the schema, every table's rows, history without times), file by file:
# each file must be exactly as before the call or as after a clean run. Where a file is as
# before, the call again must end where a clean run ends for every file (the fleet runs again
# always; a column change that was kept is not made twice: a column cannot be added twice).

# call_states DIR: every file of the call in DIR read in one process, opened anew (which rolls
# back a hot journal): CALL_STATE[i] is "HASH INTEGRITY" of file i, HASH that of its integrity
# line and its state as the fault driver compares it (schema, rows, history without times), which
# the driver writes to the file's .state beside it (for the message when two differ)
call_states() {
  local dir=$1 f n hash ic paths=()
  for f in "${CALL_FILES[@]}"; do paths+=("$dir/$f"); done
  CALL_STATE=()
  while read -r n hash ic; do
    CALL_STATE[n - 1]="$hash $ic"
  done < <("$FAULT_DRIVER" dump "$MIGRATE_SO" "${paths[@]}" 2>&1)
}

# call_diff FROM TO I: the first lines where file I's state in folder FROM and folder TO differ
call_diff() {
  diff "$1/${CALL_FILES[$3]}.state" "$2/${CALL_FILES[$3]}.state" 2>&1 | head -n 20
}

# call_run DIR [KIND:N]: the call ($CALL_SQL after $CALL_SETUP) in DIR, its files relative to it
call_run() {
  local dir=$1
  shift
  (cd "$dir" && CRASH_SQL=$CALL_SQL CRASH_SETUP=$CALL_SETUP exec "$CRASH_DRIVER" "$CALL_HUB" "$MIGRATE_SO" "$CALL_DIR" "$@")
}

# call_fresh DIR: the templates of DIR/tpl copied into DIR/work
call_fresh() {
  local dir=$1 f
  rm -rf "$dir/work"
  mkdir -p "$dir/work"
  for f in "$CALL_HUB" "${CALL_FILES[@]}"; do
    mkdir -p "$(dirname "$dir/work/$f")"
    cp "$dir/tpl/$f" "$dir/work/$f"
  done
}

# call_kill MODE NAME LABEL POINT: one kill point of a call, checked; sets CK_STATE to the
# files' states ("before", "after", "after after before", ...) or "late" (no kill happened)
call_kill() {
  local mode=$1 name=$2 label=$3 point=$4 dir="$CW/$1/$2" rc pid f i state all=() fp out again=0
  call_fresh "$dir"
  if [[ $point == ext:* ]]; then
    {
      # one subshell that becomes the driver: $! is the driver itself
      (cd "$dir/work" && CRASH_SQL=$CALL_SQL CRASH_SETUP=$CALL_SETUP exec "$CRASH_DRIVER" "$CALL_HUB" "$MIGRATE_SO" "$CALL_DIR") \
        >/dev/null 2>"$dir/kill.err" &
      pid=$!
      sleep "$(printf '0.%03d' "${point#ext:}")"
      kill -KILL "$pid" 2>/dev/null
      wait "$pid"
      rc=$?
    } 2>/dev/null
  else
    {
      call_run "$dir/work" "$point" >/dev/null 2>"$dir/kill.err"
      rc=$?
    } 2>/dev/null
    if [ "$rc" -ne 137 ] && [ "$rc" -ne 0 ]; then
      fail "the driver failed (exit status $rc): $(cat "$dir/kill.err")"
      return 1
    fi
  fi
  call_states "$dir/work"
  for i in "${!CALL_FILES[@]}"; do
    f=${CALL_FILES[i]}
    fp=${CALL_STATE[i]:-none}
    [ "${fp#* }" = ok ] || fail "$f: integrity_check after the kill: ${fp#* }"
    if [ "$fp" == "${CALL_PRE[i]}" ]; then
      state=before
      [ "${CALL_PRE[i]}" == "${CALL_POST[i]}" ] || again=1
    elif [ "$fp" == "${CALL_POST[i]}" ]; then
      state=after
    else
      state=mixed
      fail "$f is neither as before the call nor as after it; from before:"$'\n'"$(call_diff "$dir/tpl" "$dir/work" "$i")"
    fi
    all+=("$state")
  done
  if [ "$again" = 1 ] || [ "$CALL_AGAIN" = always ]; then
    out=$(call_run "$dir/work" 2>&1) || fail "the call again failed: $out"
    call_states "$dir/work"
    for i in "${!CALL_FILES[@]}"; do
      [ "${CALL_STATE[i]:-none}" == "${CALL_POST[i]}" ] ||
        fail "${CALL_FILES[i]} after the call again differs from a clean run's:"$'\n'"$(call_diff "$dir/clean" "$dir/work" "$i")"
    done
  fi
  CK_STATE="${all[*]}"
  [ "$rc" -eq 0 ] && CK_STATE=late
  return 0
}

# run_call MODE NAME: the call of the CALL_* settings in $mode/NAME (templates made there by
# CALL_MAKE), run clean, then killed at each of its points
run_call() {
  local mode=$1 name=$2 dir="$CW/$1/$2" f i out
  rm -rf "$dir"
  mkdir -p "$dir/tpl"
  check_begin "sqlite crash ($mode): $name: setup and clean run"
  (cd "$dir/tpl" && "$CALL_MAKE" "$mode") >"$dir/make.log" 2>&1 || fail "making the templates: $(tail -n 5 "$dir/make.log")"
  call_states "$dir/tpl"
  CALL_PRE=("${CALL_STATE[@]}")
  call_fresh "$dir"
  local t0 t1
  t0=$(now_ms)
  out=$(cd "$dir/work" && STMT_LOG=../stmts.log IO_LOG=../io.log CRASH_SQL=$CALL_SQL CRASH_SETUP=$CALL_SETUP \
    "$CRASH_DRIVER" "$CALL_HUB" "$MIGRATE_SO" "$CALL_DIR" 2>&1) || fail "clean run failed: $out"
  t1=$(now_ms)
  printf '%s\n' "$out" >"$dir/counts"
  call_states "$dir/work"
  CALL_POST=("${CALL_STATE[@]}")
  rm -rf "$dir/clean"
  cp -r "$dir/work" "$dir/clean" # its .state files, for the messages
  [ "${CALL_PRE[*]}" != "${CALL_POST[*]}" ] || fail "a clean run changed nothing"
  check_end || return 1
  local stmts vm io io_commit run_ms=$((t1 - t0))
  stmts=$(awk '$1 == "stmts" { print $2 }' "$dir/counts")
  vm=$(awk '$1 == "vm" { print $2 }' "$dir/counts")
  io=$(awk '$1 == "io" { print $2 }' "$dir/counts")
  io_commit=$(awk '$1 == "io_commit" { print $2 }' "$dir/counts")
  echo "# $mode, $name: clean run ${run_ms} ms, $stmts statements, $vm progress ticks, $io file operations: $(awk '$1 == "result" { $1 = ""; print substr($0, 2) }' "$dir/counts")"

  local points=() labels=() n op file seen=" " prev_write='' sql
  if [ "$io_commit" -ge 0 ]; then
    # before the statements that write, the call's own transaction control included: every one
    # in the thorough mode, CALL_STMTS spread over them in the fast one
    local wn=() wl=()
    while IFS=$'\t' read -r n sql _; do
      case $sql in
        CREATE* | INSERT* | UPDATE* | DELETE* | DROP* | ALTER* | SAVEPOINT* | RELEASE* | COMMIT* | BEGIN*)
          wn+=("$n") wl+=("before ${sql:0:50}") ;;
      esac
    done < <(awk -F'\t' '$1 > 1' "$dir/stmts.log")
    local pick=("${!wn[@]}")
    [ "$CALL_STMTS" -gt 0 ] && [ "${#wn[@]}" -gt "$CALL_STMTS" ] &&
      mapfile -t pick < <(strata 0 $((${#wn[@]} - 1)) "$CALL_STMTS" "$mode:$name:stmt")
    for i in "${pick[@]}"; do
      points+=("stmt:${wn[i]}") labels+=("${wl[i]}")
    done
    for n in $(strata 1 "$vm" "$CALL_VM" "$mode:$name:vm"); do
      points+=("vm:$n") labels+=("inside a statement")
    done
    for n in $(strata 1 "$io_commit" 3 "$mode:$name:io"); do
      points+=("io:$n") labels+=("at a file operation before COMMIT")
    done
    local -A first_sync=()
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
    done <"$dir/io.log"
  else
    # the fleet: its connections are its own, seen by the VFS only
    for n in $(strata 1 "$io" "$CALL_IO" "$mode:$name:io"); do
      points+=("io:$n") labels+=("at a file operation of the fleet's connections")
    done
  fi
  points+=("io:$io") labels+=("before the last file operation of the call")
  points+=("stmt:$stmts") labels+=("after the call returned, before the connection closed")
  n=$((run_ms / 2))
  [ "$n" -gt 999 ] && n=999
  [ "$n" -lt 1 ] && n=1
  points+=("ext:$n") labels+=("external SIGKILL after $n ms")

  local -A taken=() in_state=()
  local k good killed=0 survived=0 late=0
  for k in "${!points[@]}"; do
    [ -n "${taken[${points[k]}]:-}" ] && continue
    taken[${points[k]}]=1
    check_begin "sqlite crash ($mode): $name: kill ${labels[k]} (${points[k]})"
    CK_STATE=
    call_kill "$mode" "$name" "${labels[k]}" "${points[k]}"
    check_end && good=1 || good=0
    if [ "$CK_STATE" = late ]; then
      late=$((late + 1))
    else
      killed=$((killed + 1))
      survived=$((survived + good))
      in_state[$CK_STATE]=$((${in_state[$CK_STATE]:-0} + 1))
    fi
  done
  local summary='' st
  for st in "${!in_state[@]}"; do summary+="${summary:+; }${in_state[$st]} × $st"; done
  echo "# $mode, $name: $killed kill points, files found ($summary); $late kills came after the end (checked, not counted)"
  stat "sqlite_crash_${mode}_${name}_points" "$killed"
  CALLS_KILLED=$((CALLS_KILLED + killed))
  CALLS_SURVIVED=$((CALLS_SURVIVED + survived))
  CALLS_DESC+="${CALLS_DESC:+, }$name $killed"
}

# The table the column changes work on: CALL_ROWS (3000) rows, a third with a NULL email, a column to
# drop, an index, a trigger, and a table referencing it with ON DELETE CASCADE (foreign keys
# are on for the calls: no cascade may fire).
make_cols() {
  sqlite_shell cols.db "PRAGMA journal_mode = $1" \
    "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, n INTEGER, old TEXT)" \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $CALL_ROWS)
     INSERT INTO big (name, email, n, old) SELECT printf('User %08d', x),
       CASE WHEN x % 3 THEN 'user' || x || '@example.com' END, x, CASE WHEN x % 500 = 0 THEN 'v' || x END FROM c" \
    "CREATE INDEX big_name ON big (name)" \
    "CREATE TRIGGER big_touch AFTER UPDATE OF name ON big BEGIN SELECT 1; END" \
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, big_id INTEGER REFERENCES big (id) ON DELETE CASCADE, total INTEGER)" \
    "INSERT INTO orders (big_id, total) SELECT id, id * 10 FROM big WHERE id % 7 = 0" >/dev/null
}

# The fleet: three files (two new, one at 0003 of fm) and a calling database of its own.
make_fleet() {
  mkdir -p fleet
  sqlite_shell hub.db "CREATE TABLE hub (x)" >/dev/null
  sqlite_shell fleet/a.db "PRAGMA journal_mode = $1" "CREATE TABLE keep (x)" >/dev/null
  cp fleet/a.db fleet/b.db
  sqlite_shell fleet/c.db "PRAGMA journal_mode = $1" "CREATE TABLE keep (x)" "SELECT migrate_apply('$W/fm', '0003')" >/dev/null
}

# gen_fleet_migrations DIR: 10 migrations, each a table of 300 rows with an index.
gen_fleet_migrations() {
  local dir=$1 k v
  mkdir -p "$dir"
  for ((k = 1; k <= 10; k++)); do
    printf -v v '%04d' "$k"
    write_migration "$dir" "$k" "${v}_f_$v" "CREATE TABLE f_$v (id INTEGER PRIMARY KEY, n INTEGER, s TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
INSERT INTO f_$v (n, s) SELECT x, printf('row %d of f_$v', x) FROM c;
CREATE INDEX f_${v}_n ON f_$v (n);" "DROP TABLE f_$v;"
  done
}

# run_calls MODE: every call killed; the figures, and the total of the mode's kill points
run_calls() {
  local mode=$1 total
  if [ -z "${CW:-}" ]; then
    local base=${CRASH_WORK_BASE:-}
    [ -z "$base" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
    CW=$(mktemp -d "${base:-$W}/migrate-crash.XXXXXX") || return 1
    trap 'rm -rf "$CW"' EXIT
    trap 'exit 143' TERM # timeout ends the part: the EXIT trap still cleans up
    trap 'exit 130' INT
  fi
  CALLS_KILLED=0 CALLS_SURVIVED=0 CALLS_DESC=
  CALL_HUB=cols.db CALL_DIR=unused CALL_FILES=(cols.db) CALL_MAKE=make_cols CALL_AGAIN=before
  CALL_SETUP="PRAGMA foreign_keys = ON"
  CALL_SQL="SELECT migrate_rebuild('big', '(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT COLLATE NOCASE, n INTEGER)', 'old')"
  run_call "$mode" rebuild
  CALL_SQL="SELECT migrate_set_not_null('big', 'email', 'lower(name) || ''@example.com''')"
  run_call "$mode" set_not_null
  CALL_SQL="SELECT migrate_add_column('big', 'score', 'integer', 'n * 2', '0')"
  run_call "$mode" add_column
  CALL_HUB=hub.db CALL_DIR=$W/fm CALL_FILES=(fleet/a.db fleet/b.db fleet/c.db) CALL_MAKE=make_fleet CALL_AGAIN=always
  CALL_SETUP="SELECT migrate_set('fleet_workers', 1)"
  CALL_SQL="SELECT group_concat(state, ',') FROM migrate_fleet(?1, 'fleet/*.db')"
  run_call "$mode" fleet
  echo "# $mode: $CALLS_KILLED kill points in the column changes and the fleet ($CALLS_DESC)"
  stat "sqlite_crash_${mode}_calls_points" "$CALLS_KILLED"
  stat "sqlite_crash_${mode}_calls_survived" "$CALLS_SURVIVED"
  total=$(($(sed -n "s/^sqlite_crash_${mode}_points=//p" "$REL_STATS" | tail -n 1 | grep . || echo 0) + CALLS_KILLED))
  check_begin "sqlite crash ($mode): at least 50 distinct kill points in all"
  [ "$total" -ge 50 ] || fail "only $total"
  check_end
  stat "sqlite_crash_${mode}_total_points" "$total"
}

W="$REL_WORK/crash-sqlite"
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 1
gen_migrations m
gen_fleet_migrations fm
stat sqlite_crash_migrations "$((TOTAL - BEFORE))"
stat sqlite_crash_call_rows "${CRASH_CALL_ROWS:-3000}"
FAULT_DRIVER=${FAULT_DRIVER:-$REL_ROOT/build/reliability/fault_driver}
CALL_ROWS=${CRASH_CALL_ROWS:-3000}
CALL_STMTS=${CRASH_CALL_STMTS:-8}
CALL_VM=${CRASH_CALL_VM:-3}
CALL_IO=${CRASH_CALL_IO:-10}
if [ "${REL_CRASH_FULL:-0}" = 1 ]; then
  CALL_STMTS=${CRASH_CALL_STMTS:-0}
  CALL_VM=${CRASH_CALL_VM:-10}
  CALL_IO=${CRASH_CALL_IO:-30}
fi
# REL_CRASH_SQLITE_ONLY=apply or calls runs one of the two (while working on one); default both
only=${REL_CRASH_SQLITE_ONLY:-}
for mode in rollback wal; do
  journal=delete
  [ "$mode" = wal ] && journal=wal
  [ "$only" = calls ] || run_mode "$mode" "$journal"
  [ "$only" = apply ] || run_calls "$mode"
done
