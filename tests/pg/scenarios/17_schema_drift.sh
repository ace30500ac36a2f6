#!/usr/bin/env bash
# Schema drift without false positives: a folder with every kind of object the description
# covers is applied, then its description must not change with the caller's search_path, with the
# owner of the objects, with VACUUM FULL, ANALYZE or sequence values, or through pg_dump and
# pg_restore into another database; the same folder applied to a fresh database (other OIDs)
# describes the same. A deploy role reads drift, and a change by hand is still named.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin schema_drift

new_db SRC || { fail "could not create the source database"; scenario_end; }
new_db FRESH || { fail "could not create the second database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $SRC; dropdb --if-exists --force $FRESH; psql -X -q -c 'DROP ROLE IF EXISTS drift_owner, drift_deployer, drift_nobody'")
pg_q -c 'CREATE ROLE drift_owner; CREATE ROLE drift_deployer LOGIN; CREATE ROLE drift_nobody LOGIN' ||
  { fail "could not create the roles drift_owner, drift_deployer, drift_nobody (left over from another run?)"; scenario_end; }

DIR=$(new_dir drift)
cat >"$DIR/1_app.sql" <<'SQL'
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%@%');
CREATE TABLE app.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email app.email NOT NULL UNIQUE,
    mood app.mood DEFAULT 'ok',
    name text COLLATE "C",
    name_len integer GENERATED ALWAYS AS (length(name)) STORED,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE app.posts (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    body text CHECK (length(body) < 1000)
);
CREATE INDEX posts_user ON app.posts (user_id) WHERE body IS NOT NULL;
CREATE SEQUENCE app.tickets START 100 INCREMENT 5;
CREATE VIEW app.user_posts AS SELECT u.email, count(p.id) AS posts
  FROM app.users u LEFT JOIN app.posts p ON p.user_id = u.id GROUP BY u.email;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.body := trim(NEW.body); RETURN NEW; END $$;
CREATE TRIGGER posts_touch BEFORE INSERT ON app.posts FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_posts ON app.posts FOR SELECT USING (user_id > 0);
COMMENT ON TABLE app.users IS 'people';
COMMENT ON COLUMN app.users.email IS 'where to write';
SQL
publish

for db in "$SRC" "$FRESH"; do
  expect_eq "migrate_apply on $db" 1 \
    "$(pg_q_quiet -d "$db" -c "SELECT migrate_apply('$DIR')" 2>&1)"
done
pg_q -d "$SRC" -c 'SELECT migrate_schema()' >"$WORK/schema.src"
pg_q -d "$FRESH" -c 'SELECT migrate_schema()' >"$WORK/schema.fresh"
expect_same "the same folder on two databases" "$WORK/schema.src" "$WORK/schema.fresh"
for kind in schema type constraint table column index sequence view function trigger policy comment; do
  grep -q "^$kind	" "$WORK/schema.src" || fail "the description has no $kind line"
done
expect_line "names are schema-qualified" 'column	app\.users\.mood	app\.mood default' "$(cat "$WORK/schema.src")"

pg_q -d "$SRC" -c 'SET search_path = app, public; SELECT migrate_schema()' >"$WORK/schema.path"
expect_same "the description under another search_path" "$WORK/schema.src" "$WORK/schema.path"

pg_q -d "$SRC" -c "ALTER SCHEMA app OWNER TO drift_owner; ALTER TABLE app.users OWNER TO drift_owner;
ALTER FUNCTION app.touch() OWNER TO drift_owner; ALTER TYPE app.mood OWNER TO drift_owner;
SELECT nextval('app.tickets'); INSERT INTO app.users (email) VALUES ('a@b');" -c 'VACUUM FULL app.users' \
  -c 'ANALYZE' >/dev/null ||
  fail "could not change owners, vacuum, analyze, move a sequence and insert"
pg_q -d "$SRC" -c 'SELECT migrate_schema()' >"$WORK/schema.owner"
expect_same "the description after owners, VACUUM FULL, ANALYZE, nextval" \
  "$WORK/schema.src" "$WORK/schema.owner"
expect_eq "migrate_drift after them" "0" "$(pg_q -d "$SRC" -c 'SELECT count(*) FROM migrate_drift()')"

pg_dump -Fc -d "$SRC" -f "$WORK/src.dump" 2>"$WORK/dump.err" || fail "pg_dump failed: $(cat "$WORK/dump.err")"
new_db DST --no-extension || { fail "could not create the target database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DST")
pg_restore --exit-on-error -d "$DST" "$WORK/src.dump" 2>"$WORK/restore.err" ||
  fail "pg_restore failed: $(cat "$WORK/restore.err")"
pg_q -d "$DST" -c 'SELECT migrate_schema()' >"$WORK/schema.dst"
expect_same "the description after pg_dump and pg_restore" "$WORK/schema.src" "$WORK/schema.dst"
expect_eq "migrate_drift on the restored database" "0|1" \
  "$(pg_q -d "$DST" -F'|' -c 'SELECT (SELECT count(*) FROM migrate_drift()), (SELECT count(*) FROM migrate_schema_history)')"

# a deploy role sees drift, and is refused under drift = error
pg_q -d "$DST" -c "SELECT migrate_grant('drift_deployer', 'deploy'); GRANT pg_read_server_files TO drift_deployer" >/dev/null ||
  fail "migrate_grant failed"
pg_q -d "$DST" -c 'CREATE INDEX users_created ON app.users (created)' || fail "could not create an index"
expect_eq "migrate_drift as the deploy role" "index|app.users_created|added" \
  "$(pg_q -d "$DST" -U drift_deployer -F'|' -c 'SELECT kind, name, change FROM migrate_drift()' 2>&1)"
OUT=$(PGOPTIONS='-c migrate.drift=error' pg_q -d "$DST" -U drift_deployer -c "SELECT migrate_apply('$DIR')" 2>&1)
expect_line "migrate_apply refused for the deploy role" '^ERROR:  schema drift: .*index app\.users_created added' "$OUT"
# a role that was granted nothing reads neither the description nor the drift
for fn in 'migrate_schema()' 'migrate_drift()'; do
  OUT=$(pg_q -d "$DST" -U drift_nobody -c "SELECT count(*) FROM $fn" 2>&1)
  expect_line "$fn refused to a role granted nothing" '^ERROR:  permission denied for function migrate_(schema|drift)' "$OUT"
done
pg_q -d "$DST" -c "SELECT migrate_revoke('drift_deployer')" >/dev/null || fail "migrate_revoke failed"

scenario_end
