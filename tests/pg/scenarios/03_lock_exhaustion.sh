#!/usr/bin/env bash
# Applying many migrations in one call holds every lock of the call until it commits. On a
# second, deliberately small cluster (max_locks_per_transaction=10, max_connections=5) one call
# over 400 migrations (each a table with an index) fails with PostgreSQL's own "out of shared
# memory" error, keeping its SQLSTATE and its HINT about max_locks_per_transaction; the CONTEXT
# names the migration it happened in, and nothing was applied. CALL migrate_apply_batches over
# the same folder, 50 migrations per committed batch, succeeds on the same cluster.
# shellcheck disable=SC2317 # functions called through wait_until and the cleanup hooks
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin lock_table_exhaustion no-cluster

TOTAL=400
PART=50 # 3 locks per migration (table, primary key, index); about 110 fit in one call here

# The second cluster: keep whatever cluster the caller runs untouched (its PG* variables are
# restored at exit) and stop ours at exit, also on failure.
SAVED_PG_ENV=$(declare -p PGHOST PGPORT PGUSER PGDATABASE 2>/dev/null)
stop_small_cluster() { # cluster_start sets CLUSTER_DIR first thing: stops a half-started one too
  cluster_stop
  unset PGHOST PGPORT PGUSER PGDATABASE
  eval "$SAVED_PG_ENV"
}
CLUSTER_DIR=
CLEANUP_HOOKS+=(stop_small_cluster)
if ! cluster_start max_locks_per_transaction=10 max_connections=5 >"$WORK/cluster.log" 2>&1; then
  fail "could not start the small cluster: $(cat "$WORK/cluster.log")"
  scenario_end
fi
expect_eq "max_locks_per_transaction of the small cluster" 10 \
  "$(pg_q -d postgres -c 'SHOW max_locks_per_transaction')"

new_db DB || { fail "could not create the database"; scenario_end; }
DIR=$(new_dir many)
for i in $(seq -w 1 "$TOTAL"); do
  printf 'CREATE TABLE lx_%s (id integer PRIMARY KEY, v integer);\nCREATE INDEX lx_%s_v ON lx_%s (v);\n' \
    "$i" "$i" "$i" >"$DIR/${i}_create_lx_$i.sql"
done
publish

# One call over everything: PostgreSQL's error, as it said it, plus where it happened.
PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -v VERBOSITY=verbose -d "$DB" \
  -c "SELECT migrate_apply('$DIR')" >"$WORK/all.out" 2>"$WORK/all.err"
RC=$?
ERR=$(cat "$WORK/all.err")
expect_eq "psql exit status of the one-call apply" 1 "$RC"
expect_line "SQLSTATE and message" '^ERROR:  53200: out of shared memory$' "$ERR"
expect_line "PostgreSQL's HINT" '^HINT:  You might need to increase max_locks_per_transaction\.$' "$ERR"
expect_line "CONTEXT names the migration, its file and line" \
  '^CONTEXT:  migration ([0-9]{3}) \(\1_create_lx_\1\.sql, line [12]\)$' "$ERR"
FAILED_AT=$(sed -nE 's/^CONTEXT:  migration ([0-9]+) .*/\1/p' <<<"$ERR")
if [ -n "$FAILED_AT" ] && [ "$((10#$FAILED_AT))" -le "$PART" ]; then
  fail "the one-call apply failed at migration $FAILED_AT: parts of $PART cannot work here"
fi
expect_eq "history rows after the failed call" 0 "$(pg_q -d "$DB" -c 'SELECT count(*) FROM migrate_history')"
expect_eq "tables left by the failed call" 0 \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'lx\_%'")"
expect_eq "states after the failed call" "$TOTAL pending" \
  "$(pg_q -d "$DB" -c "SELECT count(*) || ' ' || string_agg(DISTINCT state, ',') FROM migrations_status('$DIR')")"

# The way through: CALL migrate_apply_batches commits every PART migrations, so each batch
# lets go of its locks before the next takes its own.
OUT=$(psql -X -q -At -d "$DB" -c "CALL migrate_apply_batches('$DIR', NULL, $PART)" 2>&1)
expect_line "the first batch is committed" \
  "^NOTICE:  migrate_apply_batches: batch 1 committed: $PART migrations \\($PART in all\\)$" "$OUT"
expect_line "the last batch is committed" \
  "^NOTICE:  migrate_apply_batches: batch $((TOTAL / PART)) committed: $PART migrations \\($TOTAL in all\\)$" "$OUT"
expect_line "the summary" "^NOTICE:  migrate_apply_batches: applied $TOTAL migrations in $((TOTAL / PART)) batches$" "$OUT"
expect_no_line "no error" '^ERROR' "$OUT"
expect_eq "states after applying in batches" "$TOTAL applied" \
  "$(pg_q -d "$DB" -c "SELECT count(*) || ' ' || string_agg(DISTINCT state, ',') FROM migrations_status('$DIR')")"
expect_eq "history rows after applying in batches (rows, distinct versions)" "$TOTAL|$TOTAL" \
  "$(pg_q -d "$DB" -F'|' -c 'SELECT count(*), count(DISTINCT version) FROM migrate_history')"
expect_eq "tables after applying in batches" "$TOTAL" \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'lx\_%' AND relkind = 'r'")"

scenario_end
