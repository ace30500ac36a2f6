#!/usr/bin/env bash
# Two psql sessions call migrate_apply on the same folder at the same time. The first to take
# the advisory lock applies everything; the other waits on the lock (seen in pg_locks from a
# third connection), then finds nothing pending: every migration is in the history exactly
# once, the two results add up to the number of migrations and neither session errors.
#
# The first migration holds its call open until the test opens a gate (a row in conc_gate,
# polled with pg_sleep), so the two calls overlap for as long as the test needs, without
# depending on how fast anything runs.
# shellcheck disable=SC2317 # functions called through wait_until and the cleanup hooks
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin concurrency

new_db DB || { fail "could not create the database"; scenario_end; }
pg_q -d "$DB" -c 'CREATE TABLE conc_gate (open boolean NOT NULL)' || fail "could not create conc_gate"

DIR=$(new_dir conc)
cat >"$DIR/001_create_accounts.sql" <<'SQL'
CREATE TABLE conc_accounts (id integer PRIMARY KEY, email text NOT NULL);
-- Keep the call (and its advisory lock) open until the test opens the gate; at most 60 s.
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM conc_gate WHERE open);
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SQL
cat >"$DIR/002_create_orders.sql" <<'SQL'
CREATE TABLE conc_orders (id integer PRIMARY KEY, account_id integer, total numeric(12,2));
INSERT INTO conc_orders SELECT g, g % 100, g * 1.5 FROM generate_series(1, 50000) AS g;
SQL
cat >"$DIR/003_orders_account_index.up.sql" <<'SQL'
CREATE INDEX conc_orders_account ON conc_orders (account_id);
SQL
echo 'DROP INDEX conc_orders_account;' >"$DIR/003_orders_account_index.down.sql"
cat >"$DIR/004_create_audit.sql" <<'SQL'
-- migrate:up
CREATE TABLE conc_audit (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
-- migrate:down
DROP TABLE conc_audit;
SQL
N=4
publish

apply_in_background() { # <pid variable> <session name>
  bg "$1" env PGAPPNAME="migrate_conc_$2" \
    psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT migrate_apply('$DIR')" \
    >"$WORK/$2.out" 2>"$WORK/$2.err"
}
apply_in_background PID_A a
apply_in_background PID_B b

# From a third connection: one session holds migrate's advisory lock in this database while
# the other waits for it. Prints "holder|waiter|wait_event_type|wait_event" once that is so.
LOCKS_SQL="
WITH lk AS (
    SELECT a.application_name AS app, l.granted, l.mode, a.wait_event_type, a.wait_event
    FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE l.locktype = 'advisory'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::bigint = ($MIGRATE_LOCK_KEY >> 32)
      AND l.objid::bigint = ($MIGRATE_LOCK_KEY & 4294967295)
      AND l.objsubid = 1
      AND a.application_name LIKE 'migrate_conc_%')
SELECT h.app, w.app, w.wait_event_type, w.wait_event
FROM lk h JOIN lk w ON h.granted AND NOT w.granted AND h.mode = 'ExclusiveLock'
"
SEEN=
locks_show_a_waiter() {
  SEEN=$(pg_q -d "$DB" -F'|' -c "$LOCKS_SQL")
  [ -n "$SEEN" ]
}
if wait_until 30 locks_show_a_waiter; then
  IFS='|' read -r HOLDER WAITER WAIT_TYPE WAIT_EVENT <<<"$SEEN"
  expect_eq "the waiting session's wait event" "Lock/advisory" "$WAIT_TYPE/$WAIT_EVENT"
  # While the holder is inside its first migration, nothing of the call is visible yet.
  expect_eq "history rows visible while the first call runs" 0 \
    "$(pg_q -d "$DB" -c 'SELECT count(*) FROM migrate_history')"
else
  fail "pg_locks never showed one session holding and the other waiting for advisory lock $MIGRATE_LOCK_KEY within 30 s; pg_locks (advisory):
$(pg_q -d "$DB" -c "SELECT l.pid, a.application_name, l.granted, l.classid, l.objid, l.objsubid FROM pg_locks l LEFT JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory'")
session a: $(cat "$WORK/a.err") / session b: $(cat "$WORK/b.err")"
  HOLDER='' WAITER=''
fi

# Open the gate: the holder finishes, then the waiter gets the lock and finds nothing to do.
pg_q -d "$DB" -c 'INSERT INTO conc_gate VALUES (true)' || fail "could not open the gate"
wait_bg RC_A "$PID_A" 60
wait_bg RC_B "$PID_B" 60
for s in a b; do
  rc_var=RC_${s^^}
  expect_eq "session $s exit status" 0 "${!rc_var}"
  expect_no_line "session $s stderr" '(ERROR|FATAL)' "$(cat "$WORK/$s.err")"
done
OUT_A=$(cat "$WORK/a.out")
OUT_B=$(cat "$WORK/b.out")
if [[ "$OUT_A" =~ ^[0-9]+$ && "$OUT_B" =~ ^[0-9]+$ ]]; then
  expect_eq "sum of the two return values" "$N" "$((OUT_A + OUT_B))"
else
  fail "return values are not integers: a=[$OUT_A] b=[$OUT_B]"
fi
if [ -n "$HOLDER" ]; then
  h=${HOLDER#migrate_conc_} w=${WAITER#migrate_conc_}
  expect_eq "migrate_apply of the session that held the lock ($h)" "$N" "$(cat "$WORK/$h.out")"
  expect_eq "migrate_apply of the session that waited ($w)" 0 "$(cat "$WORK/$w.out")"
  expect_eq "NOTICEs of the session that held the lock" "$N" \
    "$(grep -c 'NOTICE:  applied ' "$WORK/$h.err")"
  expect_eq "NOTICEs of the session that waited" 0 "$(grep -c 'NOTICE:  applied ' "$WORK/$w.err")"
fi

expect_eq "history: each version exactly once, all successful" \
  "001|1|t 002|1|t 003|1|t 004|1|t" \
  "$(pg_q -d "$DB" -F'|' -c 'SELECT version, count(*), bool_and(success) FROM migrate_history GROUP BY version ORDER BY version' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "history rows" "$N" "$(pg_q -d "$DB" -c 'SELECT count(*) FROM migrate_history')"
expect_eq "migrations_status states" "applied applied applied applied" \
  "$(pg_q -d "$DB" -c "SELECT state FROM migrations_status('$DIR')" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "rows inserted by migration 002" 50000 "$(pg_q -d "$DB" -c 'SELECT count(*) FROM conc_orders')"

scenario_end
