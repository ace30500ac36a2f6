#!/usr/bin/env bash
# Benchmark of migrate_check (issue 14) against migrate_apply on the same data, SQLite and
# PostgreSQL. Prints figures and ratios, never pass/fail.
#
#   bench/check.sh [N=1000] [ROWS=1000000] [RUNS=5]
#
# Two workloads: bench/gen.py's N generated migrations on an empty database, and one migration
# adding UNIQUE to a ROWS-row table that has 1% duplicates (it fails; migrate_check reports the
# duplicate groups through migrate_duplicates). For each: migrate_apply, the plain rollback
# (migrate_apply inside BEGIN ... ROLLBACK for the first, the failing migrate_apply for the
# second, which rolls back), and migrate_check; the aim is migrate_check at most 1.2x
# migrate_apply. The PostgreSQL part needs the extension installed (make -C pg_ext install).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
ROWS=${2:-1000000}
RUNS=${3:-5}
SO="$PWD/sqlite_ext/migrate"
work=$(mktemp -d /tmp/migrate-bench-check.XXXXXX)
chmod 755 "$work"
cleanup() { cluster_stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=lib.sh
. bench/lib.sh

python3 bench/gen.py "$N" "$work/gen" >/dev/null
GEN=$work/gen/migrate
mkdir -p "$work/unique"
echo 'CREATE UNIQUE INDEX users_email_key ON users (email);' >"$work/unique/1_unique_email.up.sql"
chmod -R a+rX "$work"


# --- SQLite -----------------------------------------------------------------------------
sqlite3 "$work/empty.db" 'PRAGMA journal_mode=WAL;' >/dev/null
sqlite3 "$work/users.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT, team_id INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO users SELECT i, 'user' || (CASE WHEN i % 100 = 0 THEN i - 1 ELSE i END) || '@example.com',
       'name ' || i, i % 1000 FROM n;
CREATE INDEX users_team ON users(team_id);
SQL

# Seconds of every statement of sql, on a fresh copy of template (a failing statement counts).
sqlite_time() {
  local template=$1 sql=$2 db=$work/run.db
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$template" "$db"
  printf '.load %s\n.timer on\n%s\n' "$SO" "$sql" | sqlite3 "$db" 2>&1 |
    awk '/^Run Time/ {t += $4} END {print t}'
}

read -r s_apply s_rollback s_check <<<"$(interleaved sqlite_time \
  "apply|$work/empty.db|SELECT migrate_apply('$GEN');" \
  "rollback|$work/empty.db|BEGIN; SELECT migrate_apply('$GEN'); ROLLBACK;" \
  "check|$work/empty.db|SELECT length(migrate_check('$GEN'));")"
read -r s_uapply s_ucheck <<<"$(interleaved sqlite_time \
  "apply|$work/users.db|SELECT migrate_apply('$work/unique');" \
  "check|$work/users.db|SELECT length(migrate_check('$work/unique'));")"

# --- PostgreSQL ---------------------------------------------------------------------------
p_ok=0
if command -v pg_config >/dev/null && [ -f "$(pg_config --pkglibdir)/migrate.so" ]; then
  # shellcheck source=../tests/pg/cluster.sh
  . tests/pg/cluster.sh
  if cluster_start; then
    p_ok=1
    createdb template_empty
    psql -X -q -d template_empty -c 'CREATE EXTENSION migrate'
    createdb template_users
    psql -X -q -d template_users <<SQL
CREATE EXTENSION migrate;
CREATE TABLE users(id integer PRIMARY KEY, email text, name text, team_id integer);
INSERT INTO users SELECT i, 'user' || (CASE WHEN i % 100 = 0 THEN i - 1 ELSE i END) || '@example.com',
       'name ' || i, i % 1000 FROM generate_series(1, $ROWS) i;
CREATE INDEX users_team ON users(team_id);
VACUUM ANALYZE users;
SQL
    Q="SET client_min_messages = warning;"
    read -r p_apply p_rollback p_check <<<"$(interleaved pg_fresh_time \
      "apply|template_empty|$Q SELECT migrate_apply('$GEN')" \
      "rollback|template_empty|$Q BEGIN; SELECT migrate_apply('$GEN'); ROLLBACK" \
      "check|template_empty|$Q SELECT count(*) FROM migrate_check('$GEN')")"
    read -r p_uapply p_ucheck <<<"$(interleaved pg_fresh_time \
      "apply|template_users|$Q SELECT migrate_apply('$work/unique')" \
      "check|template_users|$Q SELECT count(*) FROM migrate_check('$work/unique')")"
  fi
fi

row() { # engine case seconds base
  echo "| $1 | $2 | $3 | $(ratio "$3" "$4") |"
}
echo
echo "## migrate_check against migrate_apply (median of $RUNS runs, seconds)"
echo
echo "| engine | case | seconds | of migrate_apply |"
echo "|---|---|---|---|"
row SQLite "$N migrations: migrate_apply" "$s_apply" "$s_apply"
row SQLite "$N migrations: migrate_apply, then ROLLBACK" "$s_rollback" "$s_apply"
row SQLite "$N migrations: migrate_check" "$s_check" "$s_apply"
row SQLite "UNIQUE failing on $ROWS rows: migrate_apply (fails, rolls back)" "$s_uapply" "$s_uapply"
row SQLite "UNIQUE failing on $ROWS rows: migrate_check (with the duplicates report)" "$s_ucheck" "$s_uapply"
if [ "$p_ok" = 1 ]; then
  row PostgreSQL "$N migrations: migrate_apply" "$p_apply" "$p_apply"
  row PostgreSQL "$N migrations: migrate_apply, then ROLLBACK" "$p_rollback" "$p_apply"
  row PostgreSQL "$N migrations: migrate_check" "$p_check" "$p_apply"
  row PostgreSQL "UNIQUE failing on $ROWS rows: migrate_apply (fails, rolls back)" "$p_uapply" "$p_uapply"
  row PostgreSQL "UNIQUE failing on $ROWS rows: migrate_check (with the duplicates report)" "$p_ucheck" "$p_uapply"
else
  echo "| PostgreSQL | (skipped: the extension is not installed; make -C pg_ext install) | | |"
fi
echo
echo "The report's extra cost against the plain rollback: migrate_check minus the rollback row"
echo "(generated migrations), or minus the failing migrate_apply (UNIQUE)."
echo "Machine: $(nproc) cores; SQLite $(sqlite3 --version | cut -d' ' -f1) (WAL); $(pg_config --version 2>/dev/null || true) (fsync off, shared_buffers 64MB)."
