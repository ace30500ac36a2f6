#!/usr/bin/env bash
# migrate_add_unique called by a migration that migrate_apply runs (a call nested in
# migrate_apply's own), each time as the first statements of a fresh session: refusing on
# duplicates is an ERROR (SQLSTATE 23505) naming the migration and its line, the whole apply is
# undone, and the backend lives on; keep_first moves the rows as part of the migration.
# (tests/pg/sql/unique_migration.sql checks the same inside a long pg_regress session.)
#
# This scenario runs first and waits for the server to accept connections, at its start and
# before it ends: a backend that crashed (here or in the pg_regress tests just before) puts the
# whole cluster through recovery, and the scenarios after it must not fail for that.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin unique_in_migration

server_up() { psql -X -q -At -d postgres -c 'SELECT 1' >/dev/null 2>&1; }
wait_until 60 server_up || { fail "the server does not accept connections"; scenario_end; }

new_db DB || { fail "could not create the database"; scenario_end; }
dup=$(new_dir dup)
# 5000 duplicate groups: a refusal with a long report, which the nested call builds in memory
# of its own (small reports happen to come through; see unique_migration.sql).
cat >"$dup/1_users.up.sql" <<'SQL'
CREATE TABLE users (id integer PRIMARY KEY, email text);
INSERT INTO users
  SELECT g, 'user' || lpad((g % 5000)::text, 4, '0') || '@x.com' FROM generate_series(1, 10000) AS g;
SQL
printf -- "-- one row per email from now on\nSELECT migrate_add_unique('users', 'email');\n" \
  >"$dup/2_unique_email.up.sql"
keep=$(new_dir keep)
cp "$dup/1_users.up.sql" "$keep/"
printf -- "SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');\n" \
  >"$keep/2_unique_email.up.sql"
publish

# A fresh session: the refused apply first, then what is left, on the same backend.
cat >"$WORK/refused.sql" <<'SQL'
SELECT pg_backend_pid() AS first_pid \gset
SELECT migrate_apply(:'dir');
\echo sqlstate=:LAST_ERROR_SQLSTATE
SELECT to_regclass('users') IS NULL AS no_users, count(*) AS history_rows FROM migrate_history;
SELECT string_agg(state, ',' ORDER BY version) FROM migrations_status(:'dir');
SELECT pg_backend_pid() = :first_pid AS same_backend;
SQL
PGOPTIONS='-c client_min_messages=warning' psql -X -At -v dir="$dup" -d "$DB" \
  -f "$WORK/refused.sql" >"$WORK/refused.out" 2>"$WORK/refused.err"
RC=$?
OUT=$(cat "$WORK/refused.out")
ERR=$(cat "$WORK/refused.err")
if grep -Eq 'server closed|connection to server was lost' <<<"$ERR" || ! server_up; then
  fail "the backend died in migrate_apply instead of raising the refusal: $(head -n 1 <<<"$ERR")"
  crash=$(grep -h 'terminated by signal' "${PGHOST:-/nonexistent}/server.log" 2>/dev/null | tail -n 1)
  [ -n "$crash" ] && fail "server log: $crash"
  wait_until 60 server_up || fail "the server did not come back"
else
  expect_eq "psql exit status (the script ran to its end)" 0 "$RC"
  expect_eq "session output" "sqlstate=23505
t|0
pending,pending
t" "$OUT"
  expect_eq "the error" "psql:$WORK/refused.sql:2: ERROR:  cannot make users (email) unique: 5000 duplicate groups, 10000 rows; nothing was changed
DETAIL:  email 'user0000@x.com' appears 2 times
email 'user0001@x.com' appears 2 times
email 'user0002@x.com' appears 2 times
email 'user0003@x.com' appears 2 times
email 'user0004@x.com' appears 2 times
... and 4995 more groups
HINT:  SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates
CONTEXT:  migration 2 (2_unique_email.up.sql, line 2)" "$ERR"
fi

# keep_first inside a migration, in a fresh session: applied, the extra rows moved.
out=$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$DB" -v dir="$keep" <<'SQL' 2>&1
SELECT migrate_apply(:'dir');
SELECT min(id) || ',' || max(id) || ',' || count(*) FROM users;
SELECT count(*) FROM users_duplicates WHERE id > 5000;
SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'u';
SQL
)
expect_eq "keep_first inside a migration" "2
1,5000,5000
5000
users_email_key" "$out"
wait_until 60 server_up || fail "the server did not come back"

scenario_end
