#!/usr/bin/env bash
# migrate.lock_timeout with retries. A second session reads a table a migration alters and keeps
# its transaction open. With enough retries the call rolls back, says so in a NOTICE naming the
# table and the holder's pid and role, and succeeds in the same transaction once the holder
# ends. With too few it fails naming the holder and the number of tries, and leaves nothing.
# The caller's own lock_timeout is the same after the call, and the migration lock is not
# bounded by migrate.lock_timeout.
# shellcheck disable=SC2317 # functions called through wait_until
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin lock_retry

new_db DB || { fail "could not create the database"; scenario_end; }
DIR=$(new_dir retry)
printf 'CREATE TABLE lr_t (id integer);\n' >"$DIR/1_table.sql"
publish
expect_eq "the table's migration applies" "1" "$(pg_q -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>/dev/null)"
printf 'CREATE TABLE lr_side (id integer);\nALTER TABLE lr_t ADD COLUMN b integer;\n' \
  >"$DIR/2_alter.sql"
publish

# holding <application name>: 0 when that session holds a lock on lr_t.
holding() {
  [ "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = '$1' AND l.granted AND l.relation = 'lr_t'::regclass")" -ge 1 ]
}

# hold <application name>: a session that read lr_t and keeps its transaction open; its backend
# pid goes to HOLD_PID.
hold() {
  bg HOLDER env PGAPPNAME="$1" psql -X -q -At -d "$DB" \
    -c "BEGIN" -c "SELECT count(*) FROM lr_t" -c "SELECT pg_sleep(60)" >/dev/null 2>&1
  wait_until 30 holding "$1" || fail "the session $1 never took its lock"
  HOLD_PID=$(pg_q -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'")
}

# --- 1. enough retries: the call waits out the holder, in one transaction ----------------------
hold lr_holder1
OUT1=$WORK/out1
bg CALLER env PGOPTIONS='-c lock_timeout=7s' psql -X -q -At -v VERBOSITY=default -d "$DB" \
  -c "SET migrate.lock_timeout = '100ms'" -c "SET migrate.lock_retries = 1000" \
  -c "SET migrate.lock_retry_delay = '50ms'" -c "BEGIN" -c "SELECT 'xid ' || txid_current()" \
  -c "SELECT 'applied ' || migrate_apply('$DIR')" -c "SELECT 'xid ' || txid_current()" \
  -c "COMMIT" -c "SHOW lock_timeout" >"$OUT1" 2>&1
retried() { grep -q 'NOTICE:  migrate: try 1 of 1001' "$OUT1"; }
wait_until 60 retried || fail "no retry NOTICE came: $(cat "$OUT1")"
pg_q -d "$DB" -c "SELECT pg_terminate_backend($HOLD_PID)" >/dev/null
wait_bg STATUS "$CALLER" 60
OUT=$(cat "$OUT1")
expect_eq "the call ends well once the holder is gone ($OUT)" 0 "$STATUS"
expect_line "the NOTICE names the migration, the table and the holder" \
  "NOTICE:  migrate: try 1 of 1001: a statement of migration 2 \\(2_alter.sql, line 2\\) waited longer than migrate.lock_timeout \\(100 ms\\) for relation public.lr_t, held by pid $HOLD_PID \\(role $PGUSER\\); the call was rolled back and runs again in [0-9]+ ms" "$OUT"
expect_line "the call applied the migration" '^applied 1$' "$OUT"
expect_eq "one transaction throughout" 1 "$(grep '^xid ' <<<"$OUT" | sort -u | wc -l)"
expect_line "the caller's lock_timeout is back" '^7s$' "$OUT"
expect_eq "history: each migration once" "1 2" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
expect_eq "the column is there" "1" \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'lr_t'::regclass AND attname = 'b'")"

# --- 2. too few retries: a clean failure naming the holder and the tries ------------------------
printf 'CREATE TABLE lr_side3 (id integer);\nALTER TABLE lr_t ADD COLUMN c integer;\n' \
  >"$DIR/3_more.sql"
publish
hold lr_holder2
OUT=$(PGOPTIONS='-c lock_timeout=7s' psql -X -q -At -v VERBOSITY=default -d "$DB" \
  -c "SET migrate.lock_timeout = '100ms'" -c "SET migrate.lock_retries = 1" \
  -c "SET migrate.lock_retry_delay = '10ms'" -c "SELECT migrate_apply('$DIR')" 2>&1)
expect_line "one retry NOTICE" "NOTICE:  migrate: try 1 of 2: a statement of migration 3 \\(3_more.sql, line 2\\)" "$OUT"
expect_line "the ERROR names the holder and the tries" \
  "^ERROR:  migrate: gave up after 2 tries: a statement of migration 3 \\(3_more.sql, line 2\\) waited longer than migrate.lock_timeout \\(100 ms\\) for relation public.lr_t, held by pid $HOLD_PID \\(role $PGUSER\\)$" "$OUT"
expect_line "the DETAIL keeps PostgreSQL's message" \
  '^DETAIL:  canceling statement due to lock timeout; nothing of the call remains\.$' "$OUT"
expect_eq "history unchanged" "1 2" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
expect_eq "nothing of migration 3 remains" "0" \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_class WHERE relname = 'lr_side3'")"
expect_eq "the SQLSTATE is lock_not_available" "55P03" \
  "$(PGOPTIONS='-c lock_timeout=7s' psql -X -q -At -d "$DB" -v ON_ERROR_STOP=0 \
    -c "SET migrate.lock_timeout = '100ms'" -c "\\set VERBOSITY sqlstate" \
    -c "SELECT migrate_apply('$DIR')" 2>&1 | sed -n 's/^ERROR:  //p')"
pg_q -d "$DB" -c "SELECT pg_terminate_backend($HOLD_PID)" >/dev/null

# --- 3. the migration lock is not bounded by migrate.lock_timeout -------------------------------
bg LOCKER env PGAPPNAME=lr_locker psql -X -q -At -d "$DB" \
  -c "BEGIN" -c "LOCK TABLE migrate_history IN SHARE ROW EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1
locked() {
  [ "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = 'lr_locker' AND l.granted AND l.relation = 'migrate_history'::regclass")" -ge 1 ]
}
wait_until 30 locked || fail "the session never took the migration lock"
OUT=$(PGOPTIONS='-c lock_timeout=1s' psql -X -q -At -v VERBOSITY=default -d "$DB" \
  -c "SET migrate.lock_timeout = '10ms'" -c "SET migrate.lock_retries = 3" \
  -c "SELECT migrate_apply('$DIR')" 2>&1)
expect_line "the migration lock waits as the caller's lock_timeout says" \
  '^ERROR:  canceling statement due to lock timeout' "$OUT"
expect_line "and names the holder of the migration lock" '^DETAIL:  migrate was waiting for the migration lock' "$OUT"
expect_no_line "no retry over the migration lock" 'try 1 of' "$OUT"

scenario_end
