#!/usr/bin/env bash
# An ERROR inside a migration reaches a client with every field PostgreSQL gave it: a small
# libpq client (tests/pg/client/errfields.c) runs migrate_apply on fixture folders
# (tests/pg/migrations/errfields_*) and prints every PQresultErrorField. Checked: SQLSTATE,
# message, DETAIL, HINT; schema, table, column, constraint and type names (unique and not-null
# violations, a domain cast); the position of a syntax error, of a bad literal and of a syntax
# error in a CREATE FUNCTION's PL/pgSQL body as the file's line and column with the line and a
# caret; PL/pgSQL frames of nested functions and of a DO block before the migration's own
# context line; a function's failing query and its position.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin error_fields

CLIENT="$WORK/errfields"
if ! cc -std=c11 -Wall -Wextra -Werror -I"$(pg_config --includedir)" -o "$CLIENT" \
  "$REPO_DIR/tests/pg/client/errfields.c" -L"$(pg_config --libdir)" -lpq 2>"$WORK/cc.log"; then
  fail "could not build the libpq client: $(cat "$WORK/cc.log")"
  scenario_end
fi
new_db DB || { fail "could not create the database"; scenario_end; }
FIXTURES=${MIGRATE_FIXTURES:-$REPO_DIR/tests/pg/migrations}
cases=(unique notnull domain syntax badinput compile plpgsql do internal)
for c in "${cases[@]}"; do
  cp -R "$FIXTURES/errfields_$c" "$WORK/$c"
done
publish

folders=()
for c in "${cases[@]}"; do folders+=("$WORK/$c"); done
PGDATABASE=$DB "$CLIENT" "${folders[@]}" >"$WORK/raw.out" 2>"$WORK/client.err"
expect_eq "client exit status" 0 "$?"
sed "s#$WORK/##" "$WORK/raw.out" >"$WORK/actual.out"

# The caret lines keep the tab of the failing line, so the caret sits under the column.
TAB=$'\t'
cat >"$WORK/expected.out" <<OUT
== unique
severity: ERROR
sqlstate: 23505
message: duplicate key value violates unique constraint "accounts_email_key"
detail: Key (email)=(a@example.com) already exists.
context: migration 1 (1_accounts.sql, line 8)
schema_name: ef_unique
table_name: accounts
constraint_name: accounts_email_key
== notnull
severity: ERROR
sqlstate: 23502
message: null value in column "full_name" of relation "people" violates not-null constraint
detail: Failing row contains (1, null).
context: migration 1 (1_people.sql, line 3)
schema_name: ef_notnull
table_name: people
column_name: full_name
== domain
severity: ERROR
sqlstate: 23514
message: value for domain ef_domain.positive violates check constraint "positive_check"
context: migration 1 (1_positive.sql, line 3)
schema_name: ef_domain
datatype_name: positive
constraint_name: positive_check
== syntax
severity: ERROR
sqlstate: 42601
message: syntax error at or near "SELEC"
context: migration 2 (2_typo.sql, line 4, column 23)
context: LINE 4: INSERT INTO ef_syntax SELEC 1;
context:                               ^
== badinput
severity: ERROR
sqlstate: 22P02
message: invalid input syntax for type integer: "twelve"
context: migration 1 (1_ages.sql, line 3, column 15)
context: LINE 3: ${TAB}VALUES (1), ('twelve');
context:         ${TAB}             ^
== compile
severity: ERROR
sqlstate: 42601
message: syntax error at or near "SELEC"
context: migration 1 (1_function.sql, line 5, column 5)
context: LINE 5:     SELEC 1;
context:             ^
== plpgsql
severity: ERROR
sqlstate: MG042
message: ef_check refuses 2
detail: n was 2
hint: pass 1 or less
context: PL/pgSQL function ef_check(integer) line 4 at RAISE
context: SQL statement "SELECT ef_check(n)"
context: PL/pgSQL function ef_outer(integer) line 3 at PERFORM
context: migration 1 (1_check.sql, line 16)
== do
severity: ERROR
sqlstate: MG043
message: ef_do refuses
detail: from a DO block
hint: do not
context: PL/pgSQL function inline_code_block line 3 at RAISE
context: migration 1 (1_do.sql, line 2)
== internal
severity: ERROR
sqlstate: 42P01
message: relation "ef_nowhere" does not exist
internal_position: 15
internal_query: SELECT * FROM ef_nowhere
context: PL/pgSQL function ef_reader() line 3 at PERFORM
context: migration 1 (1_reader.sql, line 6)
OUT
expect_same "error fields seen through libpq" "$WORK/expected.out" "$WORK/actual.out"

# Every call failed and changed nothing.
expect_eq "history and objects after the failures" "0|0" \
  "$(pg_q -d "$DB" -c "SELECT (SELECT count(*) FROM migrate_history),
                            (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ef_%')")"

# psql shows the failing line and the caret as it shows a syntax error of its own.
OUT=$(psql -X -d "$DB" -v dir="$WORK/syntax" 2>&1 <<<"SELECT migrate_apply(:'dir');")
expect_line "psql shows the context line" '^CONTEXT:  migration 2 \(2_typo.sql, line 4, column 23\)$' "$OUT"
expect_line "psql shows the failing line" '^LINE 4: INSERT INTO ef_syntax SELEC 1;$' "$OUT"
expect_line "psql shows the caret" '^                              \^$' "$OUT"

# Inside a caller's PL/pgSQL the frames come once each: the script's, then the caller's.
OUT=$(psql -X -d "$DB" -v dir="$WORK/plpgsql" 2>&1 <<'SQL'
SELECT set_config('test.dir', :'dir', false) IS NOT NULL AS dir_set \gset
DO $$
DECLARE
    context text;
BEGIN
    PERFORM migrate_apply(current_setting('test.dir'));
EXCEPTION WHEN SQLSTATE 'MG042' THEN
    GET STACKED DIAGNOSTICS context = PG_EXCEPTION_CONTEXT;
    RAISE WARNING 'frames: %', replace(context, E'\n', ' | ');
END
$$;
SQL
)
expect_line "caller's frames follow the migration's" \
  'WARNING:  frames: PL/pgSQL function ef_check\(integer\) line 4 at RAISE \| SQL statement "SELECT ef_check\(n\)" \| PL/pgSQL function ef_outer\(integer\) line 3 at PERFORM \| migration 1 \(1_check.sql, line 16\) \| SQL statement "SELECT migrate_apply\(current_setting\(.test.dir.\)\)" \| PL/pgSQL function inline_code_block line 5 at PERFORM$' \
  "$OUT"

scenario_end
