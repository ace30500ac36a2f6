#!/usr/bin/env bash
# The upgrade path, tested the way pg_cron tests its own: install 0.1.0 from its script, apply a
# folder with it (a deploy role given INSERT on migrate_history, as 0.1.0's README said), then
# ALTER EXTENSION migrate UPDATE. Afterwards:
#   - the extension is at the control file's version;
#   - its catalog (every member object: functions with their definitions, settings and
#     grants, tables with columns, defaults, constraints, triggers and grants, the event
#     trigger, comments, the tables pg_dump keeps) is identical to a fresh install's;
#   - history and status are unchanged, the deploy role can no longer write history, and the
#     new functions work (migrate_apply with a count, migrate_script, the drop guard).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin upgrade

CURRENT=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$REPO_DIR/pg_ext/migrate.control")
ROLE="mig_upgrade_deployer_$$"
CLEANUP_HOOKS+=("psql -X -q -c 'DROP ROLE IF EXISTS $ROLE'")
pg_q -c "CREATE ROLE $ROLE LOGIN" || fail "could not create the role"

# Every member object of the extension, described so that two databases compare line by line.
CATALOG_SQL=$(
  cat <<'SQL'
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'migrate'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
       || E'\nacl ' || coalesce(p.proacl, acldefault('f', p.proowner))::text
       || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text
       || E'\nacl ' || coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))::text
       || E'\ncomment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
       || coalesce(E'\nview ' || pg_get_viewdef(c.oid), '')
  FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
       || coalesce(' comment ' || col_description(a.attrelid, a.attnum), '')
  FROM pg_attribute a JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = a.attrelid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
  FROM pg_constraint co JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = co.conrelid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = i.indrelid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' comment ' || coalesce(obj_description(t.oid, 'pg_trigger'), '-')
  FROM pg_trigger t JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = t.tgrelid
 WHERE NOT t.tgisinternal
UNION ALL
SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtfoid::regprocedure || ' '
       || e.evtenabled::text || ' ' || coalesce(e.evttags::text, '-')
       || ' comment ' || coalesce(obj_description(e.oid, 'pg_event_trigger'), '-')
  FROM pg_event_trigger e JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
UNION ALL
SELECT 'dumped ' || c::regclass || ' ' || coalesce(w, '-')
  FROM ext, unnest(ext.extconfig, ext.extcondition) AS u(c, w)
ORDER BY 1
SQL
)

# --- 0.1.0, and a folder applied with it ---
new_db OLD --no-extension || { fail "could not create a database"; scenario_end; }
pg_q -d "$OLD" -c "CREATE EXTENSION migrate VERSION '0.1.0'" || fail "CREATE EXTENSION migrate VERSION '0.1.0' failed"
expect_eq "the version installed first" "0.1.0" \
  "$(pg_q -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")"
DIR=$(new_dir examples)
cp -R "$REPO_DIR/examples/." "$DIR/"
publish
# 0.1.0's README gave a deploy role INSERT on history
pg_q -d "$OLD" -c "GRANT SELECT, INSERT ON migrate_history TO $ROLE; GRANT USAGE ON SEQUENCE migrate_history_id_seq TO $ROLE" \
  || fail "the 0.1.0 grant failed"
N=$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$OLD" -c "SELECT migrate_apply('$DIR')")
[ "${N:-0}" -ge 5 ] || fail "migrate_apply with 0.1.0 applied [$N] migrations, expected 5 or more"
pg_q -d "$OLD" -F'|' -c "SELECT * FROM migrations_status('$DIR')" >"$WORK/status.before"
pg_q -d "$OLD" -F'|' -c "SELECT * FROM migrate_history ORDER BY id" >"$WORK/history.before"

# --- the upgrade ---
if ! out=$(pg_q -d "$OLD" -c "ALTER EXTENSION migrate UPDATE" 2>&1); then
  fail "ALTER EXTENSION migrate UPDATE failed: $out"
  scenario_end
fi
expect_eq "the version after ALTER EXTENSION UPDATE" "$CURRENT" \
  "$(pg_q -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")"
pg_q -d "$OLD" -F'|' -c "SELECT * FROM migrations_status('$DIR')" >"$WORK/status.after"
pg_q -d "$OLD" -F'|' -c "SELECT * FROM migrate_history ORDER BY id" >"$WORK/history.after"
expect_same "migrations_status before and after the upgrade" "$WORK/status.before" "$WORK/status.after"
expect_same "migrate_history before and after the upgrade" "$WORK/history.before" "$WORK/history.after"

# --- the same catalog as a fresh install ---
# the deploy role may still read history, and nothing more
expect_eq "what the 0.1.0 deploy role keeps" "migrate_history:SELECT
migrate_history_id_seq:-" \
  "$(pg_q -d "$OLD" -c "SELECT c.relname || ':' || coalesce(string_agg(a.privilege_type, ',' ORDER BY a.privilege_type)
                            FILTER (WHERE a.grantee = '$ROLE'::regrole), '-')
                       FROM pg_class c LEFT JOIN LATERAL aclexplode(c.relacl) a ON true
                      WHERE c.relname IN ('migrate_history', 'migrate_history_id_seq')
                      GROUP BY c.relname ORDER BY 1")"
pg_q -d "$OLD" -c "REVOKE SELECT ON migrate_history FROM $ROLE" || fail "could not revoke the role's SELECT"
new_db NEW || { fail "could not create a database"; scenario_end; }
pg_q -d "$OLD" -c "$CATALOG_SQL" >"$WORK/catalog.upgraded" || fail "could not describe the upgraded catalog"
pg_q -d "$NEW" -c "$CATALOG_SQL" >"$WORK/catalog.fresh" || fail "could not describe the fresh catalog"
[ "$(wc -l <"$WORK/catalog.fresh")" -gt 100 ] || fail "the catalog description is too short to mean anything"
expect_same "the upgraded catalog and a fresh install's" "$WORK/catalog.fresh" "$WORK/catalog.upgraded"
expect_eq "a key for migrate_script's record tokens" "1" \
  "$(pg_q -d "$OLD" -c "SELECT count(*) FROM migrate_key WHERE key ~ '^[0-9a-f]{64}$'")"

# --- history is the extension's alone now; the new functions work ---
out=$(pg_q -d "$OLD" -c "SET ROLE $ROLE; INSERT INTO migrate_history (version, name, direction, applied_at, success)
VALUES ('99', 'forged', 'up', now(), true)" 2>&1)
expect_line "the 0.1.0 deploy role writing history after the upgrade" "permission denied for table migrate_history" "$out"
expect_eq "migrate_version() after the upgrade" "$CURRENT" "$(pg_q -d "$OLD" -c "SELECT migrate_version()")"
expect_eq "migrate_script with nothing pending" "-- migrate: nothing to apply; the database is at version $(pg_q -d "$OLD" -c "SELECT max(version) FROM migrate_history")" \
  "$(pg_q -d "$OLD" -c "SELECT statement FROM migrate_script('$DIR')")"
out=$(pg_q -d "$OLD" -c "DROP EXTENSION migrate" 2>&1)
expect_line "DROP EXTENSION after the upgrade" "history" "$out"
expect_eq "the extension is still there" "1" \
  "$(pg_q -d "$OLD" -c "SELECT count(*) FROM pg_extension WHERE extname = 'migrate'")"

scenario_end
