#!/usr/bin/env bash
# Benchmark of migrate_add_unique on a 1,000,000-row table, SQLite and PostgreSQL.
# Prints figures and ratios (never a pass/fail test). Usage: bench/unique.sh [rows] [runs=9]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${2:-9}
SO="$PWD/sqlite_ext/migrate"
work=$(mktemp -d /tmp/migrate-bench.XXXXXX)
chmod 755 "$work"
cleanup() { cluster_stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=lib.sh
. bench/lib.sh

# --- SQLite -----------------------------------------------------------------------------
# $1: 0 for clean data, 1 for 1% duplicates (every 100th row repeats the previous email)
sqlite_template() {
  local db=$work/template_$1.db
  sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT, team_id INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO users SELECT i, 'user' || (CASE WHEN $1 AND i % 100 = 0 THEN i - 1 ELSE i END) || '@example.com',
       'name ' || i, i % 1000 FROM n;
CREATE INDEX users_team ON users(team_id);
CREATE INDEX users_name ON users(name);
CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE);
INSERT INTO posts SELECT id, id FROM users WHERE id % 10 = 0;
SQL
  echo "$db"
}

# Time one SQLite statement on a fresh copy of template $1; prints seconds.
sqlite_time() {
  local template=$1 sql=$2 db=$work/run.db
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$template" "$db"
  printf '.load %s\n.timer on\n%s\n' "$SO" "$sql" | sqlite3 "$db" 2>&1 |
    awk '/^Run Time/ {t += $4} END {print t}'
}

# SQLite's documented way to add a constraint: the 12-step table rebuild, which recreates the
# table's other indexes too (the table has two, as real tables do).
REBUILD="PRAGMA foreign_keys=OFF; BEGIN;
CREATE TABLE users_new(id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, team_id INTEGER);
INSERT INTO users_new SELECT id, email, name, team_id FROM users;
DROP TABLE users; ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_team ON users(team_id); CREATE INDEX users_name ON users(name);
PRAGMA foreign_key_check; COMMIT; PRAGMA foreign_keys=ON;"

clean=$(sqlite_template 0)
dups=$(sqlite_template 1)
read -r s_raw s_mig s_rebuild s_raw_dup s_report <<<"$(interleaved sqlite_time \
  "raw|$clean|CREATE UNIQUE INDEX users_email_key ON users(email);" \
  "migrate|$clean|SELECT migrate_add_unique('users', 'email');" \
  "rebuild|$clean|$(tr '\n' ' ' <<<"$REBUILD")" \
  "raw_dup|$dups|SELECT 1; CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users(email);" \
  "report|$dups|SELECT migrate_add_unique('users', 'email');")"

# --- PostgreSQL ---------------------------------------------------------------------------
# Here pg_time is the last statement's seconds (bench/lib.sh's pg_fresh_time calls this one).
pg_time() { # db sql: seconds of the last statement
  psql -X -q -d "$1" -c '\timing on' -c "$2" 2>&1 | awk '/^Time:/ {t = $2} END {print t / 1000}'
}
p_ok=0
if command -v pg_config >/dev/null && [ -f "$(pg_config --pkglibdir)/migrate.so" ]; then
  # shellcheck source=../tests/pg/cluster.sh
  . tests/pg/cluster.sh
  if cluster_start; then
    p_ok=1
    for d in 0 1; do
      createdb "template_$d"
      psql -X -q -d "template_$d" <<SQL
CREATE EXTENSION migrate;
CREATE TABLE users(id integer PRIMARY KEY, email text, name text, team_id integer);
INSERT INTO users SELECT i, 'user' || (CASE WHEN $d = 1 AND i % 100 = 0 THEN i - 1 ELSE i END) || '@example.com',
       'name ' || i, i % 1000 FROM generate_series(1, $ROWS) i;
CREATE INDEX users_team ON users(team_id);
CREATE INDEX users_name ON users(name);
VACUUM ANALYZE users;
SQL
    done
    read -r p_raw p_con p_mig p_raw_dup p_report <<<"$(interleaved pg_fresh_time \
      "raw|template_0|CREATE UNIQUE INDEX users_email_key ON users(email)" \
      "con|template_0|ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)" \
      "migrate|template_0|SELECT migrate_add_unique('users', 'email')" \
      "raw_dup|template_1|DO \$\$ BEGIN CREATE UNIQUE INDEX users_email_key ON users(email); EXCEPTION WHEN unique_violation THEN NULL; END \$\$" \
      "report|template_1|DO \$\$ BEGIN PERFORM migrate_add_unique('users', 'email'); EXCEPTION WHEN unique_violation THEN NULL; END \$\$")"
  fi
fi

echo
echo "## migrate_add_unique on $ROWS rows (median of $RUNS runs, seconds)"
echo
echo "| engine | case | seconds | ratio | aim |"
echo "|---|---|---|---|---|"
echo "| SQLite | raw CREATE UNIQUE INDEX, clean data | $s_raw | 1.00x | |"
echo "| SQLite | migrate_add_unique, clean data | $s_mig | $(ratio "$s_mig" "$s_raw") of raw | at most 1.05x |"
echo "| SQLite | 12-step table rebuild adding UNIQUE | $s_rebuild | migrate is $(ratio "$s_rebuild" "$s_mig") faster | at least 5x |"
echo "| SQLite | raw CREATE UNIQUE INDEX failing, 1% duplicates | $s_raw_dup | | |"
echo "| SQLite | migrate_add_unique error report, 1% duplicates | $s_report | $(ratio "$s_report" "$s_raw") of raw build | at most 2x |"
if [ "$p_ok" = 1 ]; then
  echo "| PostgreSQL | raw CREATE UNIQUE INDEX, clean data | $p_raw | 1.00x | |"
  echo "| PostgreSQL | raw ALTER TABLE ADD CONSTRAINT UNIQUE | $p_con | $(ratio "$p_con" "$p_raw") of raw | |"
  echo "| PostgreSQL | migrate_add_unique, clean data | $p_mig | $(ratio "$p_mig" "$p_raw") of raw | at most 1.05x |"
  echo "| PostgreSQL | raw CREATE UNIQUE INDEX failing, 1% duplicates | $p_raw_dup | | |"
  echo "| PostgreSQL | migrate_add_unique error report, 1% duplicates | $p_report | $(ratio "$p_report" "$p_raw") of raw build | at most 2x |"
else
  echo "| PostgreSQL | (skipped: the extension is not installed; make -C pg_ext install) | | | |"
fi
echo
echo "The users table has an integer primary key and two ordinary indexes (team_id, name)."
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; SQLite $(sqlite3 --version | cut -d' ' -f1) (WAL); $(pg_config --version 2>/dev/null || true) (fsync off, shared_buffers 64MB)."
