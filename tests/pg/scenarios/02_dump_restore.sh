#!/usr/bin/env bash
# pg_dump keeps migrate_history (pg_extension_config_dump): apply a folder, dump the database in
# custom format, restore it into a fresh database (the restore runs CREATE EXTENSION itself),
# and migrations_status(dir) is identical in every column, applied_at included, as is every
# history row. migrate_apply on the restored database then finds nothing to do, and a new
# migration applies there (the history's id sequence was restored too).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin dump_restore

new_db SRC || { fail "could not create the source database"; scenario_end; }
DIR=$(new_dir examples)
cp -R "$REPO_DIR/examples/." "$DIR/"
publish

STATUS_SQL="SELECT * FROM migrations_status('$DIR')"
HISTORY_SQL='SELECT * FROM migrate_history ORDER BY id'

N=$(pg_q -d "$SRC" -c "SELECT count(*) FROM migrations_status('$DIR') WHERE state = 'pending'")
[ "${N:-0}" -ge 5 ] || fail "examples/ should hold 5 or more pending migrations, found [$N]"
expect_eq "migrate_apply on the source" "$N" \
  "$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$SRC" -c "SELECT migrate_apply('$DIR')")"

pg_q -d "$SRC" -F'|' -c "$STATUS_SQL" >"$WORK/status.before"
pg_q -d "$SRC" -F'|' -c "$HISTORY_SQL" >"$WORK/history.before"
expect_eq "applied rows before the dump" "$N" "$(grep -c '|applied|' "$WORK/status.before")"

if ! pg_dump -Fc -d "$SRC" -f "$WORK/src.dump" 2>"$WORK/dump.err"; then
  fail "pg_dump failed: $(cat "$WORK/dump.err")"
  scenario_end
fi
if ! pg_restore -l "$WORK/src.dump" | grep -q 'TABLE DATA [a-z_]* migrate_history '; then
  fail "the dump holds no data for migrate_history"
fi

new_db DST --no-extension || { fail "could not create the target database"; scenario_end; }
if ! pg_restore --exit-on-error -d "$DST" "$WORK/src.dump" 2>"$WORK/restore.err"; then
  fail "pg_restore failed: $(cat "$WORK/restore.err")"
  scenario_end
fi
expect_eq "extension created by the restore" \
  "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$REPO_DIR/pg_ext/migrate.control")" \
  "$(pg_q -d "$DST" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")"

pg_q -d "$DST" -F'|' -c "$STATUS_SQL" >"$WORK/status.after"
pg_q -d "$DST" -F'|' -c "$HISTORY_SQL" >"$WORK/history.after"
expect_same "migrations_status rows before the dump and after the restore" \
  "$WORK/status.before" "$WORK/status.after"
expect_same "migrate_history rows before the dump and after the restore" \
  "$WORK/history.before" "$WORK/history.after"

expect_eq "migrate_apply on the restored database" 0 \
  "$(pg_q -d "$DST" -c "SELECT migrate_apply('$DIR')" 2>&1)"

# A new migration on the restored database: its history id follows the restored ones.
cat >"$DIR/20240301090000_create_project_labels.sql" <<'SQL'
-- migrate:up
CREATE TABLE project_labels (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    PRIMARY KEY (project_id, label)
);
-- migrate:down
DROP TABLE project_labels;
SQL
publish
expect_eq "migrate_apply of a new migration on the restored database" 1 \
  "$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$DST" -c "SELECT migrate_apply('$DIR')" 2>&1)"
expect_eq "history ids on the restored database (count, distinct, newest is the new version)" \
  "$((N + 1))|$((N + 1))|20240301090000" \
  "$(pg_q -d "$DST" -F'|' -c 'SELECT count(*), count(DISTINCT id), (SELECT version FROM migrate_history ORDER BY id DESC LIMIT 1) FROM migrate_history')"

scenario_end
