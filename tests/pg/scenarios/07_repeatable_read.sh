#!/usr/bin/env bash
# migrate_apply in a REPEATABLE READ transaction whose snapshot predates another session's
# apply: the advisory lock is free by then, but the history must still not be read as it was
# when the snapshot was taken. Correct behaviour: nothing is applied twice (the call returns 0,
# or fails, e.g. with a serialization failure); every migration stays in the history exactly
# once and its data is inserted once. The other session runs from psql's \! in the middle of
# the first one's transaction, so the order is fixed without any waiting.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin repeatable_read_snapshot

new_db DB || { fail "could not create the database"; scenario_end; }
pg_q -d "$DB" -c 'CREATE TABLE rr_prices (sku text NOT NULL, price numeric(12,2) NOT NULL)' ||
  fail "could not create rr_prices"
DIR=$(new_dir rr)
echo "INSERT INTO rr_prices VALUES ('basic', 9.00);" >"$DIR/1_seed_basic.sql"
echo "INSERT INTO rr_prices VALUES ('pro', 29.00);" >"$DIR/2_seed_pro.sql"
publish

cat >"$WORK/session.sql" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS history_rows_in_snapshot FROM migrate_history;
\! PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -d "$RR_DB" -c "SELECT migrate_apply('$RR_DIR')" >"$RR_WORK/other.out" 2>&1
SELECT migrate_apply(:'dir') AS applied_by_the_old_snapshot;
COMMIT;
SQL
RR_DB=$DB RR_DIR=$DIR RR_WORK=$WORK PGOPTIONS='-c client_min_messages=warning' \
  psql -X -q -At -v dir="$DIR" -d "$DB" -f "$WORK/session.sql" >"$WORK/session.out" 2>"$WORK/session.err"
expect_eq "the other session's migrate_apply" 2 "$(cat "$WORK/other.out")"
OUT=$(cat "$WORK/session.out")
expect_line "history seen by the old snapshot" '^0$' "$(head -1 <<<"$OUT")"
SECOND=$(sed -n 2p <<<"$OUT")
if [ -n "$SECOND" ] && [ "$SECOND" != 0 ]; then
  fail "migrate_apply in the REPEATABLE READ transaction applied again what the other session had applied: returned [$SECOND] (expected 0 or an error)"
fi
expect_eq "history: each version exactly once" "1|1 2|1" \
  "$(pg_q -d "$DB" -F'|' -c 'SELECT version, count(*) FROM migrate_history GROUP BY version ORDER BY version' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "rows the migrations inserted" "basic|1 pro|1" \
  "$(pg_q -d "$DB" -F'|' -c 'SELECT sku, count(*) FROM rr_prices GROUP BY sku ORDER BY sku' | tr '\n' ' ' | sed 's/ $//')"

scenario_end
