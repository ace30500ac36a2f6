# The shared cases (tests/cases/*.sh) on PostgreSQL: the words a case uses, through psql against
# the cluster the PG* variables name, in the database CASE_DB (tests/cases/run_pg.sh makes a fresh
# one per case). Error output is brought to the SQLite suite's form: psql's "psql:FILE:LINE: "
# prefix and the "ERROR:  " and "DETAIL:  " labels go, "HINT:  " becomes "HINT: "; CONTEXT
# lines stay as they are. An error stops the run with exit status 1, as sqlite3 -bail does.
# shellcheck shell=bash disable=SC2034  # the variables are read by the case files

ENGINE=pg
# The tables the migrations made (not the extension's own), one per line; how many there are.
USER_TABLES="FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"
TABLES="SELECT relname $USER_TABLES ORDER BY relname;"
COUNT_TABLES="SELECT count(*) $USER_TABLES;"
# The indexes on those tables other than their primary keys, one name per line.
INDEXES="SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
   JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'public'::regnamespace AND NOT i.indisprimary
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
 ORDER BY ic.relname;"
# 1 when a row's migrate_moved_at (migrate_add_unique's quarantine) is a fresh timestamp.
FRESH_MOVED_AT="CAST(migrate_moved_at > now() - interval '1 hour' AS integer)"
# 1 when a history row's applied_at is a fresh timestamp.
FRESH_APPLIED_AT="CAST(applied_at > now() - interval '1 hour' AS integer)"

# db_run [--no-bail] < SQL: run SQL on the case's database; sets OUT, ERR and RC (0 or 1).
# shellcheck disable=SC2120 # the cases pass --no-bail
db_run() {
  local stop=()
  if [ "${1-}" = --no-bail ]; then
    stop=(-v ON_ERROR_STOP=0) # pg_q stops at the first error
  fi
  cat >.pg.in
  PG_RUNS=$((${PG_RUNS:-0} + 1))
  ASSERT_CONTEXT="psql run $PG_RUNS: $(grep -m1 -v '^[[:space:]]*$' .pg.in)"
  pg_q_quiet "${stop[@]}" -d "$CASE_DB" -f .pg.in >.pg.out 2>.pg.err
  RC=$?
  # 3: a statement failed under ON_ERROR_STOP; without it psql goes on and exits 0
  if [ "$RC" = 3 ] || { [ "$RC" = 0 ] && grep -q '^psql:[^:]*:[0-9]*: ERROR:' .pg.err; }; then
    RC=1
  fi
  OUT=$(cat .pg.out)
  ERR=$(sed -E -e 's/^psql:[^:]*:[0-9]+: //' -e 's/^(ERROR|DETAIL):  //' -e 's/^HINT:  /HINT: /' \
    .pg.err)
}

# db_snapshot: SNAPSHOT becomes the schema, data and history as text (pg_dump keeps history),
# without the dump's random \restrict key and without the positions of the id sequences of
# history and schema history: a sequence is not transactional, so a call that failed and
# changed nothing may have used ids.
db_snapshot() {
  SNAPSHOT=$(pg_dump --no-owner -d "$CASE_DB" 2>&1 |
    grep -Ev "^\\\\(un)?restrict |setval\('public\.migrate_(schema_)?history_id_seq'")
}

# set_setting NAME VALUE / show_setting NAME: SQL that sets a setting of this session and
# prints its value, or prints it. The settings exist once the module is loaded, which a session
# does at its first call of a migrate function: LOAD it first.
set_setting() { printf "LOAD 'migrate'; SET migrate.%s = %s; SHOW migrate.%s;\n" "$1" "$2" "$1"; }
show_setting() { printf "LOAD 'migrate'; SHOW migrate.%s;\n" "$1"; }

# columns_of TABLE: SQL that lists the columns of TABLE in their order, one per line.
columns_of() {
  printf "SELECT attname FROM pg_attribute WHERE attrelid = '%s'::regclass AND attnum > 0
   AND NOT attisdropped ORDER BY attnum;\n" "$1"
}
# index_columns INDEX: SQL that lists the columns of INDEX in their order, one per line.
index_columns() {
  printf "SELECT a.attname FROM pg_index i CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k (attnum, n)
   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
   WHERE i.indexrelid = '%s'::regclass ORDER BY k.n;\n" "$1"
}

# db_run_script SOURCE [TARGET]: the pending work as migrate_script(SOURCE[, TARGET]) writes it
# (SOURCE as SQL: a quoted folder or NULL), run by psql's \gexec; sets RC and ERR (OUT is what
# psql printed).
db_run_script() {
  local args=$1
  [ $# -lt 2 ] || args="$1, '$2'"
  # shellcheck disable=SC2119 # the one option of db_run is not wanted here
  db_run <<<"SELECT statement FROM migrate_script($args) \\gexec"
}
