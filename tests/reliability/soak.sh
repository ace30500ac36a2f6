#!/usr/bin/env bash
# Soak: for REL_SOAK_SECONDS (default 30; make reliability-full: 300), on one database,
#   - 8 appliers call migrate_apply on the same folder, racing, at their own (seeded) pace;
#   - a feeder adds a migration to that folder every 0.5 s (written under a temporary name,
#     then renamed): columns added to the application's table, indexes created and dropped on
#     it, tables filled from it, and UPDATEs of it;
#   - 8 writers read and write that same table: each transaction inserts a row of its own and
#     increments its counter row, then the writer reads its rows back (it must see every write
#     it was told was committed).
#
#   soak.sh sqlite   a SQLite file in WAL mode (sqlite3 shells, .timeout 5000)
#   soak.sh pg       a PostgreSQL database (psql sessions). The appliers bound each statement
#                    of a migration with migrate.lock_timeout (SOAK_PG_LOCK_TIMEOUT, default 25ms)
#                    and run a call that timed out again (migrate.lock_retries 100,
#                    migrate.lock_retry_delay 20ms); the retry NOTICEs are counted. No session
#                    sets lock_timeout: a writer waits behind a migration at most until that
#                    migration's statement times out and its call rolls back. A writer's
#                    transaction pauses 50 ms after its INSERT, holding its locks on items.
#
# Afterwards (with one last migrate_apply once the feeder has stopped): no lost write (every
# acknowledged insert is there, each counter equals its writer's acknowledged increments and its
# number of rows), every migration applied exactly once (one up row per file, the counts the
# calls returned add up, the schema has each migration's column or table), and no session error
# other than the documented ones: SQLite's "database is locked" (the busy timeout ran out) and
# migrate's lock timeout on PostgreSQL (a call that gave up after its last retry). Their numbers
# are reported.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

ENGINE=$1
SECONDS_RUN=${REL_SOAK_SECONDS:-30}
APPLIERS=${SOAK_APPLIERS:-8}
WRITERS=${SOAK_WRITERS:-8}

W="$REL_WORK/soak-$ENGINE"
rm -rf "$W"
mkdir -p "$W/m" "$W/staging" "$W/out"
chmod -R 755 "$W"
cd "$W" || exit 1

if [ "$ENGINE" = sqlite ]; then
  # run SQL: one sqlite3 session, stdout the result, stderr the error
  run() { "$SQLITE3" -batch -bail -cmd '.timeout 5000' db "$1"; }
  apply() { "$SQLITE3" -batch -bail -cmd ".load $MIGRATE_SO" -cmd '.timeout 5000' db "SELECT migrate_apply('$W/m')"; }
  DOCUMENTED='database is locked|database table is locked'
  columns_sql="SELECT count(*) FROM pragma_table_info('items') WHERE name GLOB 'c_*'"
  tables_sql="SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name GLOB 't_*'"
  BEGIN_WRITE='BEGIN IMMEDIATE'
  WRITE_PAUSE=
else
  DB=rel_soak
  LOCK_TIMEOUT=${SOAK_PG_LOCK_TIMEOUT:-25ms}
  LOCK_RETRIES=100
  run() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
  # the retry NOTICEs go to stderr with the rest
  apply() {
    PGOPTIONS="-c client_min_messages=notice -c migrate.lock_timeout=$LOCK_TIMEOUT -c migrate.lock_retries=$LOCK_RETRIES -c migrate.lock_retry_delay=20ms" \
      psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT migrate_apply('$W/m')"
  }
  DOCUMENTED='migrate: gave up after [0-9]+ tries: .* waited longer than migrate.lock_timeout'
  columns_sql="SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname ~ '^c_' AND NOT attisdropped"
  tables_sql="SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname ~ '^t_'"
  BEGIN_WRITE='BEGIN'
  # a writer's transaction holds its locks on items a while, as an application's does, so
  # migrations' statements wait for them and time out
  WRITE_PAUSE='SELECT pg_sleep(0.05);'
fi

# migration K (2, 3, ...): one of four kinds on the application's table items
migration_sql() {
  local k=$1
  case $((k % 4)) in
    0) echo "ALTER TABLE items ADD COLUMN c_$k INTEGER DEFAULT $k;" ;;
    1) echo "CREATE INDEX items_ix_$k ON items (tag, w);
DROP INDEX IF EXISTS items_ix_$((k - 4));" ;;
    2) echo "CREATE TABLE t_$k (w INTEGER, i INTEGER, tag TEXT, PRIMARY KEY (w, i));
INSERT INTO t_$k SELECT w, i, tag FROM items WHERE i % 10 = $((k % 10));" ;;
    3) echo "UPDATE items SET tag = 'm$k' WHERE i % 5 = $((k % 5));" ;;
  esac
}
name_of() { printf '%06d_step_%d.sql' "$1" "$1"; }

# failed CALLER STDERR-FILE: one line per failed call: "documented|other <first error line>"
failed() {
  local msg
  msg=$(grep -v 'NOTICE:  ' "$2" | grep -m1 -iE 'error|locked|timeout' | head -c 300)
  [ -n "$msg" ] || msg=$(head -n1 "$2" | head -c 300)
  if [[ $msg =~ $DOCUMENTED ]]; then
    echo "documented $msg" >>"out/$1.fail"
  else
    echo "other $msg" >>"out/$1.fail"
  fi
}

applier() {
  local a=$1 r=0 out
  : >"out/a$a.counts"
  : >"out/a$a.fail"
  : >"out/a$a.retries"
  while [ ! -e stop ]; do
    r=$((r + 1))
    if out=$(apply 2>"out/a$a.err"); then
      echo "$out" >>"out/a$a.counts"
    else
      failed "a$a" "out/a$a.err"
    fi
    grep -c 'NOTICE:  migrate: try [0-9]* of ' "out/a$a.err" >>"out/a$a.retries"
    sleep "0.$(printf '%03d' "$(rand_below 150 "soak:$ENGINE:a$a:$r")")"
  done
}

writer() {
  local w=$1 i=0 seen acked=0 reads=0
  : >"out/w$w.acked"
  : >"out/w$w.fail"
  : >"out/w$w.bad"
  while [ ! -e stop ]; do
    i=$((i + 1))
    if run "$BEGIN_WRITE; INSERT INTO items (w, i, tag) VALUES ($w, $i, 'w$w'); $WRITE_PAUSE
            UPDATE items SET n = n + 1 WHERE w = $w AND i = 0; COMMIT;" >/dev/null 2>"out/w$w.err"; then
      echo "$i" >>"out/w$w.acked"
      acked=$((acked + 1))
    else
      failed "w$w" "out/w$w.err"
    fi
    # read back: every acknowledged write is visible to a new session
    if seen=$(run "SELECT count(*) || ' ' || (SELECT n FROM items WHERE w = $w AND i = 0) FROM items WHERE w = $w AND i > 0" 2>"out/w$w.err"); then
      reads=$((reads + 1))
      [ "$seen" = "$acked $acked" ] || echo "read after write $i: rows and counter [$seen], $acked acknowledged" >>"out/w$w.bad"
    else
      failed "w$w" "out/w$w.err"
    fi
    sleep 0.02
  done
  echo "$reads" >"out/w$w.reads"
}

feeder() {
  local k=2
  while [ ! -e stop ]; do
    migration_sql "$k" >"staging/$(name_of "$k")"
    mv "staging/$(name_of "$k")" "m/$(name_of "$k")"
    k=$((k + 1))
    sleep 0.5
  done
}

check_begin "soak $ENGINE: ${SECONDS_RUN} s, $APPLIERS appliers racing on one folder, $WRITERS writers on the tables being migrated"
printf 'CREATE TABLE items (w INTEGER NOT NULL, i INTEGER NOT NULL, n INTEGER NOT NULL DEFAULT 0, tag TEXT,
  PRIMARY KEY (w, i));\n' >"m/$(name_of 1)"
if [ "$ENGINE" = sqlite ]; then
  "$SQLITE3" -batch db 'PRAGMA journal_mode = wal' >/dev/null
else
  if ! pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
    ! pg_q_quiet -d "$DB" -c 'CREATE EXTENSION migrate' >/dev/null; then
    fail "could not create the database"
  fi
fi
expect_eq "the first migration" 1 "$(apply 2>&1 | grep -v '^NOTICE:  ')"
seed=
for ((w = 1; w <= WRITERS; w++)); do seed+="${seed:+, }($w, 0)"; done
run "INSERT INTO items (w, i) VALUES $seed;" >/dev/null 2>&1 || fail "could not seed the counters"

t0=$(now_ms)
pids=()
feeder &
pids+=($!)
for ((a = 1; a <= APPLIERS; a++)); do applier "$a" & pids+=($!); done
for ((w = 1; w <= WRITERS; w++)); do writer "$w" & pids+=($!); done
sleep "$SECONDS_RUN"
touch stop
wait "${pids[@]}"
elapsed=$(($(now_ms) - t0))

# the last files the feeder added, applied now that nothing races
final=$(apply 2>"$W/final.err")
[[ $final =~ ^[0-9]+$ ]] || fail "the last migrate_apply: $final $(grep -v 'NOTICE:  ' "$W/final.err")"
files=$(find m -name '*.sql' | wc -l)
calls=0 applying=0 returned=0
for ((a = 1; a <= APPLIERS; a++)); do
  while read -r c; do
    calls=$((calls + 1))
    [ "$c" -gt 0 ] 2>/dev/null && applying=$((applying + 1))
    returned=$((returned + c))
  done <"out/a$a.counts"
  calls=$((calls + $(wc -l <"out/a$a.fail")))
done
expect_eq "migrations the calls applied (returned counts + the last call + the first)" "$files" "$((returned + ${final:-0} + 1))"
expect_eq "up rows in history" "$files" "$(run "SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success" 2>&1)"
expect_eq "versions applied more than once" "" \
  "$(run "SELECT version FROM migrate_history WHERE direction = 'up' GROUP BY version HAVING count(*) > 1" 2>&1)"
expect_eq "failed rows in history" 0 "$(run "SELECT count(*) FROM migrate_history WHERE NOT success" 2>&1)"
expect_eq "history versions are the files" "" \
  "$(comm -3 <(find m -name '*.sql' -printf '%f\n' | cut -c1-6 | sort) \
    <(run "SELECT version FROM migrate_history WHERE direction = 'up'" 2>&1 | sort))"
# each kind of migration left its mark exactly once
cols=0 tabs=0
for ((k = 2; k <= files; k++)); do
  case $((k % 4)) in 0) cols=$((cols + 1)) ;; 2) tabs=$((tabs + 1)) ;; esac
done
expect_eq "columns added by migrations" "$cols" "$(run "$columns_sql" 2>&1)"
expect_eq "tables created by migrations" "$tabs" "$(run "$tables_sql" 2>&1)"

# no lost write
acked_total=0 rows_total=0 reads=0
for ((w = 1; w <= WRITERS; w++)); do
  acked=$(wc -l <"out/w$w.acked")
  acked_total=$((acked_total + acked))
  got=$(run "SELECT count(*) || ' ' || (SELECT n FROM items WHERE w = $w AND i = 0) FROM items WHERE w = $w AND i > 0" 2>&1)
  rows=${got%% *}
  rows_total=$((rows_total + ${rows:-0}))
  expect_eq "writer $w: rows and counter = acknowledged writes" "$acked $acked" "$got"
  missing=$(comm -23 <(sort "out/w$w.acked") <(run "SELECT i FROM items WHERE w = $w AND i > 0" 2>&1 | sort))
  expect_eq "writer $w: acknowledged rows missing" "" "$missing"
  [ -s "out/w$w.bad" ] && fail "writer $w: $(head -3 "out/w$w.bad")"
  reads=$((reads + $(cat "out/w$w.reads" 2>/dev/null || echo 0)))
done

# the statements that timed out on a lock and whose call ran again (PostgreSQL)
retries=0 retried_calls=0
for ((a = 1; a <= APPLIERS; a++)); do
  while read -r n; do
    retries=$((retries + n))
    [ "$n" -gt 0 ] && retried_calls=$((retried_calls + 1))
  done <"out/a$a.retries"
done
documented=$(cat out/*.fail | grep -c '^documented ')
other=$(cat out/*.fail | grep -c '^other ')
expect_eq "session errors other than the documented ones" "" "$(cat out/*.fail | grep '^other ' | sort | uniq -c | head -5)"
check_end
rc=$?
echo "# soak $ENGINE: ${elapsed} ms; $files migrations, each applied once: $calls apply calls ($applying applied something); $acked_total writes acknowledged, $rows_total rows found; $reads reads; $documented documented errors (lock timeout / busy), $other others"
[ "$ENGINE" = pg ] && echo "# soak pg: migrate.lock_timeout $LOCK_TIMEOUT, lock_retries $LOCK_RETRIES: $retries statements timed out on a lock and their call ran again ($retried_calls calls retried)"
stat "soak_${ENGINE}_seconds" "$SECONDS_RUN"
stat "soak_${ENGINE}_appliers" "$APPLIERS"
stat "soak_${ENGINE}_writers" "$WRITERS"
stat "soak_${ENGINE}_migrations" "$files"
stat "soak_${ENGINE}_history_rows" "$(run "SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success" 2>/dev/null)"
stat "soak_${ENGINE}_calls" "$calls"
stat "soak_${ENGINE}_calls_applying" "$applying"
stat "soak_${ENGINE}_acked" "$acked_total"
stat "soak_${ENGINE}_rows" "$rows_total"
stat "soak_${ENGINE}_reads" "$reads"
stat "soak_${ENGINE}_documented_errors" "$documented"
stat "soak_${ENGINE}_other_errors" "$other"
if [ "$ENGINE" = pg ]; then
  stat soak_pg_lock_timeout "$LOCK_TIMEOUT"
  stat soak_pg_lock_retries_setting "$LOCK_RETRIES"
  stat soak_pg_lock_retries "$retries"
  stat soak_pg_retried_calls "$retried_calls"
fi
[ "$ENGINE" = pg ] && pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
exit $rc
