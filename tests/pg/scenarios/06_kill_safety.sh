#!/usr/bin/env bash
# A migrate_apply whose second migration runs long (pg_sleep(60), ended by the kill long
# before) is terminated from another session with pg_terminate_backend() once
# pg_stat_activity shows it sleeping in that migration.
# Afterwards the history has no row of that call, none of the call's tables exist, the
# advisory lock is free, and a new migrate_apply completes the job.
# shellcheck disable=SC2317 # functions called through wait_until and the cleanup hooks
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin kill_safety

new_db DB || { fail "could not create the database"; scenario_end; }
DIR=$(new_dir kill)
echo 'CREATE TABLE ks_customers (id integer PRIMARY KEY, name text NOT NULL);' >"$DIR/1_create_customers.sql"
cat >"$DIR/2_create_invoices.sql" <<'SQL'
CREATE TABLE ks_invoices (id integer PRIMARY KEY, customer_id integer REFERENCES ks_customers (id));
-- A long backfill.
SELECT pg_sleep(60);
SQL
echo 'CREATE INDEX ks_invoices_customer ON ks_invoices (customer_id);' >"$DIR/3_invoices_customer_index.sql"
publish

bg VICTIM env PGAPPNAME=migrate_kill_victim \
  psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT migrate_apply('$DIR')" \
  >"$WORK/victim.out" 2>"$WORK/victim.err"

# The victim is inside migration 2 when its backend sleeps: the only pg_sleep of the folder.
BACKEND=
victim_sleeping() {
  BACKEND=$(pg_q -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'migrate_kill_victim'
                           AND datname = current_database() AND wait_event = 'PgSleep'")
  [ -n "$BACKEND" ]
}
if ! wait_until 20 victim_sleeping; then
  fail "the victim never showed up sleeping in pg_stat_activity within 20 s: $(cat "$WORK/victim.err")"
  scenario_end
fi
expect_eq "the victim holds migrate's advisory lock" 1 \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $BACKEND
                     AND classid::bigint = ($MIGRATE_LOCK_KEY >> 32) AND objid::bigint = ($MIGRATE_LOCK_KEY & 4294967295)")"
# pg_terminate_backend with a timeout waits (bounded) until the backend is gone.
expect_eq "pg_terminate_backend" t "$(pg_q -d "$DB" -c "SELECT pg_terminate_backend($BACKEND, 20000)")"
wait_bg VICTIM_RC "$VICTIM" 20
expect_eq "psql exit status of the terminated session (connection lost)" 2 "$VICTIM_RC"
expect_line "the terminated session was told why" 'terminating connection due to administrator command' \
  "$(cat "$WORK/victim.err")"

expect_eq "history rows after the kill" 0 "$(pg_q -d "$DB" -c 'SELECT count(*) FROM migrate_history')"
expect_eq "tables of the killed call (ks_customers, ks_invoices)" "|" \
  "$(pg_q -d "$DB" -F'|' -c "SELECT to_regclass('ks_customers'), to_regclass('ks_invoices')")"
expect_eq "advisory locks left" 0 "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")"
expect_eq "states after the kill" "pending,pending,pending" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(state, ',' ORDER BY version) FROM migrations_status('$DIR')")"

# A new call does the whole job (the backfill, never applied, made quick first).
sed -i 's/pg_sleep(60)/pg_sleep(0.1)/' "$DIR/2_create_invoices.sql"
expect_eq "migrate_apply after the kill" 3 \
  "$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>&1)"
expect_eq "history after the new call" "1,2,3" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(version, ',' ORDER BY id) FROM migrate_history WHERE success")"
expect_eq "states after the new call" "applied,applied,applied" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(state, ',' ORDER BY version) FROM migrations_status('$DIR')")"
expect_eq "tables after the new call" "ks_customers|ks_invoices|ks_invoices_customer" \
  "$(pg_q -d "$DB" -F'|' -c "SELECT to_regclass('ks_customers'), to_regclass('ks_invoices'), to_regclass('ks_invoices_customer')")"

scenario_end
