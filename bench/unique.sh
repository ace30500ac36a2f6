#!/usr/bin/env bash
# Benchmark of migrate_add_unique on a 1,000,000-row table, SQLite and PostgreSQL.
# Prints figures and ratios (never a pass/fail test). Usage: bench/unique.sh [rows] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${2:-3}
SO="$PWD/sqlite_ext/migrate"
work=$(mktemp -d /tmp/migrate-bench.XXXXXX)
chmod 755 "$work"
cleanup() { cluster_stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

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

sqlite_case() { # name template sql
  local i times=()
  for ((i = 0; i < RUNS; i++)); do times+=("$(sqlite_time "$2" "$3")"); done
  printf '%s\n' "${times[@]}" | median
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
s_raw=$(sqlite_case raw "$clean" "CREATE UNIQUE INDEX users_email_key ON users(email);")
s_mig=$(sqlite_case migrate "$clean" "SELECT migrate_add_unique('users', 'email');")
s_rebuild=$(sqlite_case rebuild "$clean" "$REBUILD")
s_raw_dup=$(sqlite_case raw_dup "$dups" "SELECT 1; CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users(email);")
s_report=$(sqlite_case report "$dups" "SELECT migrate_add_unique('users', 'email');")

# --- PostgreSQL ---------------------------------------------------------------------------
pg_time() { # db sql: milliseconds of the last statement
  psql -X -q -d "$1" -c '\timing on' -c "$2" 2>&1 | awk '/^Time:/ {t = $2} END {print t / 1000}'
}
pg_case() { # template sql
  local i times=()
  for ((i = 0; i < RUNS; i++)); do
    dropdb --if-exists bench_run >/dev/null 2>&1
    createdb -T "$1" bench_run
    times+=("$(pg_time bench_run "$2")")
  done
  printf '%s\n' "${times[@]}" | median
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
    p_raw=$(pg_case template_0 "CREATE UNIQUE INDEX users_email_key ON users(email)")
    p_con=$(pg_case template_0 "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)")
    p_mig=$(pg_case template_0 "SELECT migrate_add_unique('users', 'email')")
    p_raw_dup=$(pg_case template_1 "DO \$\$ BEGIN CREATE UNIQUE INDEX users_email_key ON users(email); EXCEPTION WHEN unique_violation THEN NULL; END \$\$")
    p_report=$(pg_case template_1 "DO \$\$ BEGIN PERFORM migrate_add_unique('users', 'email'); EXCEPTION WHEN unique_violation THEN NULL; END \$\$")
  fi
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
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
