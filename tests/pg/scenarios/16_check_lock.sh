#!/usr/bin/env bash
# migrate_check never queues behind traffic for long: a second session holds a lock on a table a
# migration needs; the rehearsal waits migrate.check_lock_timeout at most, reports that migration
# as failing on a lock timeout naming the table and the holder's pid, rehearses the others, and
# leaves nothing behind.
# shellcheck disable=SC2317 # functions called through wait_until
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin check_lock

new_db DB || { fail "could not create the database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB")

DIR=$(new_dir check_lock)
printf 'CREATE TABLE busy (id integer);\n' >"$DIR/1_busy.sql"
printf 'ALTER TABLE busy ADD COLUMN note text;\n' >"$DIR/2_alter_busy.sql"
printf 'CREATE TABLE calm (id integer);\n' >"$DIR/3_calm.sql"
publish
OUT=$(pg_q -d "$DB" -c "SET client_min_messages = warning" -c "SELECT migrate_apply('$DIR', '1')" 2>&1)
expect_eq "migration 1 applied" "1" "$OUT"

# holds <application name>: 1 when that session holds a granted lock on busy.
holds() {
  [ "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = '$1' AND l.granted AND l.locktype = 'relation'
        AND l.relation = 'busy'::regclass")" -ge 1 ]
}

# The holder keeps its transaction open until told to end it (no timer: it holds for as long as
# the rehearsal takes).
FIFO=$(new_dir check_lock_fifo)/holder
mkfifo "$FIFO"
bg PID_HOLD env PGAPPNAME=mig_check_holder psql -X -q -At -d "$DB" -f "$FIFO" >/dev/null 2>&1
exec 3>"$FIFO"
echo "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE;" >&3
wait_until 30 holds mig_check_holder || fail "the session never took its lock on busy"
HOLD_PID=$(pg_q -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mig_check_holder'")

OUT=$(PGOPTIONS='-c migrate.check_lock_timeout=500ms' psql -X -q -At -F'|' -d "$DB" \
  -c "SELECT version, outcome, after_failure, error FROM migrate_check('$DIR')" 2>&1)
expect_line "migration 2 fails on the lock, naming the table and the holder" \
  "^2\\|fails\\|f\\|migration 2 \\(2_alter_busy.sql, line 1\\): lock timeout on public\\.busy \\(held by pid $HOLD_PID\\)" "$OUT"
expect_line "the hint names the setting" "^HINT: the rehearsal waited migrate.check_lock_timeout \\(500 ms\\)" "$OUT"
expect_line "migration 3 is still rehearsed" '^3\|ok\|f\|$' "$OUT"

echo "COMMIT;" >&3
exec 3>&-
wait_bg HOLDER_STATUS "$PID_HOLD" 30
expect_eq "the holder's transaction ended as it chose" "0" "$HOLDER_STATUS"

expect_eq "nothing of the rehearsal remains" "1||busy" \
  "$(pg_q -d "$DB" -F'|' -c "SELECT (SELECT string_agg(version, ' ') FROM migrate_history),
       (SELECT string_agg(attname, ' ') FROM pg_attribute WHERE attrelid = 'busy'::regclass AND attname = 'note'),
       (SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class WHERE relname IN ('busy', 'calm'))")"
expect_eq "the lock_timeout of the session is as it was" "0" \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM migrate_check('$DIR') WHERE false; SHOW lock_timeout" | tail -1)"

scenario_end
