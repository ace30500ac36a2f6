#!/usr/bin/env bash
# Races around the migrations folder, reproduced on purpose, on both engines.
#
#  1. A call waits for the migration lock while another session applies a migration whose file
#     appeared after the waiting call started. When the lock comes, the waiting call must find
#     nothing left to do (the file is in the folder), not report the migration "missing".
#  2. An entry of the folder is renamed away while calls read the folder (an editor's or a
#     deploy tool's temporary file, not a .sql file): the calls must not fail.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

W="$REL_WORK/races"
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
cd "$W" || exit 1
LOCK_KEY=30796665482998885 # pg_advisory_xact_lock key of migrate_apply
READS=${RACE_READS:-300}
FILLER=${RACE_FILLER:-200} # migrations read before the temporary file: a wider window

# report NAME REGEX WHAT: end the check (REGEX and WHAT describe the race it once showed; any
# failure now fails the check)
report() {
  check_end
}

# --- 1. the lock waiter, SQLite -----------------------------------------------------------------
check_begin "race (sqlite): a call waiting for the lock, while another applies a file that appeared meanwhile"
rm -rf s1 && mkdir -p s1/m && cd s1 || exit 1
printf 'CREATE TABLE a (x INTEGER);\n' >m/1_a.sql
mkfifo holder.fifo
"$SQLITE3" -batch -cmd ".load $MIGRATE_SO" db <holder.fifo >holder.out 2>&1 &
holder=$!
exec 7>holder.fifo
printf 'BEGIN IMMEDIATE;\n.output ready\nSELECT 1;\n.output stdout\n' >&7
for ((i = 0; i < 1000; i++)); do [ -s ready ] && break; sleep 0.01; done
[ -s ready ] || fail "the holder never took the lock"
"$SQLITE3" -batch -cmd ".load $MIGRATE_SO" -cmd '.timeout 60000' db "SELECT migrate_apply('m')" >waiter.out 2>waiter.err &
waiter=$!
sleep 0.5 # the waiter has read the folder and waits for the lock (it cannot get it)
printf 'CREATE TABLE b (x INTEGER);\n' >m/tmp.2 && mv m/tmp.2 m/2_b.sql
printf "SELECT migrate_apply('m');\nCOMMIT;\n" >&7
exec 7>&-
wait "$holder"
wait "$waiter"
rc=$?
expect_eq "the holder applied both" 2 "$(cat holder.out)"
expect_eq "the waiter's call" "0" "$(cat waiter.out)$(cat waiter.err)"
[ "$rc" -eq 0 ] || fail "the waiter failed (exit status $rc)"
expect_eq "history" "1 2" "$("$SQLITE3" db "SELECT group_concat(version, ' ') FROM migrate_history")"
cd "$W" || exit 1
report "$CHECK_NAME" 'was applied but its file is missing from the folder|exit status 1' \
  "the waiting call read the folder before it waited for the lock, and reports the file that appeared meanwhile as missing: \"$(head -1 s1/waiter.err | sed 's/^Error: stepping, //')\""

# --- 1. the lock waiter, PostgreSQL -------------------------------------------------------------
check_begin "race (pg): a call waiting for the lock, while another applies a file that appeared meanwhile"
DB=rel_races
if ! { pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null &&
  pg_q_quiet -d "$DB" -c 'CREATE EXTENSION migrate'; }; then
  fail "could not create the database"
fi
rm -rf p1 && mkdir -p p1/m && chmod -R 755 p1
printf 'CREATE TABLE a (x integer);\n' >p1/m/1_a.sql
chmod 644 p1/m/1_a.sql
mkfifo p1/holder.fifo
PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -d "$DB" <p1/holder.fifo >p1/holder.out 2>&1 &
holder=$!
exec 7>p1/holder.fifo
printf 'BEGIN;\nSELECT pg_advisory_xact_lock(%s);\n' "$LOCK_KEY" >&7
for ((i = 0; i < 1000; i++)); do
  [ "$(pg_q_quiet -d "$DB" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
  sleep 0.01
done
PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -d "$DB" -c "SELECT migrate_apply('$W/p1/m')" >p1/waiter.out 2>p1/waiter.err &
waiter=$!
for ((i = 0; i < 1000; i++)); do # until the waiter waits for the lock
  [ "$(pg_q_quiet -d "$DB" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")" = 1 ] && break
  sleep 0.01
done
printf 'CREATE TABLE b (x integer);\n' >p1/m/tmp.2 && chmod 644 p1/m/tmp.2 && mv p1/m/tmp.2 p1/m/2_b.sql
printf "SELECT migrate_apply('%s');\nCOMMIT;\n" "$W/p1/m" >&7
exec 7>&-
wait "$holder"
wait "$waiter"
rc=$?
expect_eq "the holder applied both" 2 "$(grep -v '^$' p1/holder.out)"
expect_eq "the waiter's call" "0" "$(cat p1/waiter.out)$(cat p1/waiter.err)"
[ "$rc" -eq 0 ] || fail "the waiter failed (exit status $rc)"
expect_eq "history" "1 2" "$(pg_q_quiet -d "$DB" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
report "$CHECK_NAME" 'was applied but its file is missing from the folder|exit status [0-9]' \
  "the waiting call read the folder before it waited for the lock, and reports the file that appeared meanwhile as missing: \"$(head -1 p1/waiter.err | sed 's/^ERROR: *//')\""

# --- 2. an entry renamed while the folder is read -----------------------------------------------
renamer() { # renamer DIR: rename a temporary file back and forth until the stop file appears
  local d=$1
  : >"$d/tmp.upload.partial"
  while [ ! -e "$d.stop" ]; do
    mv "$d/tmp.upload.partial" "$d/tmp.upload.partial2"
    mv "$d/tmp.upload.partial2" "$d/tmp.upload.partial"
  done
}

check_begin "race (sqlite): a temporary file renamed while $READS calls read the folder"
rm -rf s2 && mkdir -p s2/m
for ((i = 1; i <= FILLER; i++)); do printf 'CREATE TABLE a%s (x INTEGER);\n' "$i" >"s2/m/${i}_a.sql"; done
renamer s2/m &
ren=$!
for ((i = 0; i < READS; i++)); do echo "SELECT count(*) FROM migrations_status('s2/m');"; done >s2/reads.sql
"$SQLITE3" -batch -cmd ".load $MIGRATE_SO" s2/db <s2/reads.sql >s2/out 2>s2/err
touch s2/m.stop
wait "$ren"
errors=$(grep -c . s2/err)
expect_eq "calls that failed" 0 "$errors"
report "$CHECK_NAME" '^calls that failed' \
  "$errors of $READS calls failed, e.g. \"$(sed -E 's/^(Runtime error near line [0-9]+|Error: near line [0-9]+|Error): (stepping, )?//' s2/err | head -1)\""
stat races_sqlite_rename_errors "$errors"
stat races_reads "$READS"

check_begin "race (pg): a temporary file renamed while $READS calls read the folder"
rm -rf p2 && mkdir -p p2/m && chmod 755 p2 p2/m
for ((i = 1; i <= FILLER; i++)); do printf 'CREATE TABLE a%s (x integer);\n' "$i" >"p2/m/${i}_a.sql"; done
chmod 644 p2/m/*.sql
renamer p2/m &
ren=$!
for ((i = 0; i < READS; i++)); do echo "SELECT count(*) FROM migrations_status('$W/p2/m');"; done >p2/reads.sql
psql -X -q -At -d "$DB" -f p2/reads.sql >p2/out 2>p2/err
touch p2/m.stop
wait "$ren"
errors=$(grep -c '^psql:.*ERROR' p2/err)
expect_eq "calls that failed" 0 "$errors"
report "$CHECK_NAME" '^calls that failed' \
  "$errors of $READS calls failed, e.g. \"$(sed 's/^psql:[^:]*:[0-9]*: ERROR: *//' p2/err | head -1)\""
stat races_pg_rename_errors "$errors"

pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
exit 0
