#!/usr/bin/env bash
# The migration lock cannot be held by a role that merely connects. A role with no rights on
# migrate takes pg_advisory_lock with migrate's key and keeps it: a deploy still proceeds (with
# a WARNING naming that session), under the lock on migrate_history, which such a role cannot
# take. When a session that may use migrate holds a lock a call must wait for, and the wait ends
# with lock_timeout, the ERROR's DETAIL names the holder's pid and role: for the advisory key
# and for the table lock.
# shellcheck disable=SC2317 # functions called through wait_until
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin lock_squatter

SQUATTER=mig_squatter_$$
new_db DB || { fail "could not create the database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB; psql -X -q -c 'DROP ROLE IF EXISTS $SQUATTER'")
pg_q -c "CREATE ROLE $SQUATTER LOGIN" || fail "could not create role $SQUATTER"

DIR=$(new_dir squat)
printf 'CREATE TABLE sq_one (id integer);\n' >"$DIR/1_one.sql"
printf 'CREATE TABLE sq_two (id integer);\n' >"$DIR/2_two.sql"
publish

# holds <application name> <variable>: 1 when that session holds a granted lock of the kind.
holds() {
  [ "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = '$1' AND l.granted AND $2")" -ge 1 ]
}
ADVISORY="l.locktype = 'advisory' AND l.classid::bigint = ($MIGRATE_LOCK_KEY >> 32)
        AND l.objid::bigint = ($MIGRATE_LOCK_KEY & 4294967295) AND l.objsubid = 1"
TABLE="l.locktype = 'relation' AND l.relation = 'migrate_history'::regclass"

# --- 1. a role without rights on migrate holds the key: the deploy goes on ------------------
bg PID_SQUAT env PGAPPNAME=mig_squatter psql -X -q -At -U "$SQUATTER" -d "$DB" \
  -c "SELECT pg_advisory_lock($MIGRATE_LOCK_KEY)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1
wait_until 30 holds mig_squatter "$ADVISORY" || fail "the squatter never took the advisory lock"
SQUAT_PID=$(pg_q -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mig_squatter'")
OUT=$(PGOPTIONS='-c lock_timeout=20s' psql -X -q -At -d "$DB" -c "SELECT migrate_apply('$DIR', '1')" 2>&1)
expect_line "the deploy proceeds while the squatter holds the key ($OUT)" '^1$' "$OUT"
expect_line "the WARNING names the squatter" "WARNING:  migrate: advisory lock $MIGRATE_LOCK_KEY is held by pid $SQUAT_PID \\(role $SQUATTER\\), which may not use migrate" "$OUT"
kill "$PID_SQUAT" 2>/dev/null
pg_q -d "$DB" -c "SELECT pg_terminate_backend($SQUAT_PID)" >/dev/null 2>&1

# --- 2. a session that may use migrate holds the key: lock_timeout names it ------------------
bg PID_HOLD env PGAPPNAME=mig_holder psql -X -q -At -d "$DB" \
  -c "SELECT pg_advisory_lock($MIGRATE_LOCK_KEY)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1
wait_until 30 holds mig_holder "$ADVISORY" || fail "the holder never took the advisory lock"
HOLD_PID=$(pg_q -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mig_holder'")
OUT=$(PGOPTIONS='-c lock_timeout=1s' psql -X -q -At -v VERBOSITY=default -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>&1)
expect_line "the wait ends with lock_timeout" '^ERROR:  canceling statement due to lock timeout' "$OUT"
expect_line "the DETAIL names the holder of the key" "^DETAIL:  migrate was waiting for the migration lock, held by pid $HOLD_PID \\(role $PGUSER\\)\\.$" "$OUT"
kill "$PID_HOLD" 2>/dev/null
pg_q -d "$DB" -c "SELECT pg_terminate_backend($HOLD_PID)" >/dev/null 2>&1

# --- 3. a session holds the table lock: lock_timeout names it --------------------------------
bg PID_TABLE env PGAPPNAME=mig_table psql -X -q -At -d "$DB" \
  -c "BEGIN" -c "LOCK TABLE migrate_history IN SHARE ROW EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1
wait_until 30 holds mig_table "$TABLE" || fail "the session never took the table lock"
TABLE_PID=$(pg_q -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mig_table'")
OUT=$(PGOPTIONS='-c lock_timeout=1s' psql -X -q -At -v VERBOSITY=default -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>&1)
expect_line "the wait ends with lock_timeout" '^ERROR:  canceling statement due to lock timeout' "$OUT"
expect_line "the DETAIL names the holder of the table lock" "^DETAIL:  migrate was waiting for the migration lock, held by pid $TABLE_PID \\(role $PGUSER\\)\\.$" "$OUT"
# readers are never held up by it
expect_eq "status reads while the lock is held" "1|applied" \
  "$(pg_q -d "$DB" -F'|' -c "SET lock_timeout = '1s'; SELECT version, state FROM migrations_status")"
kill "$PID_TABLE" 2>/dev/null
pg_q -d "$DB" -c "SELECT pg_terminate_backend($TABLE_PID)" >/dev/null 2>&1

expect_eq "history: migration 1 once, nothing of the refused calls" "1" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"

scenario_end
