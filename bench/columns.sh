#!/usr/bin/env bash
# Benchmark of the column changes (issue 16) against their raw equivalents, on ROWS rows.
# Prints figures and ratios, never pass/fail.
#
#   bench/columns.sh [ROWS=1000000] [RUNS=3]     (ENGINES=sqlite or postgresql: one of them only)
#
# - PostgreSQL: migrate_set_not_null with nothing to fill against a raw ALTER TABLE ... ALTER
#   COLUMN ... SET NOT NULL (the aim: at most 1.1x), on a throwaway cluster as bench/check.sh
#   uses. Needs the extension installed (make -C pg_ext install).
# - SQLite: migrate_rebuild (a column made NOT NULL) on a table with three indexes and a child
#   table, against sqlite-utils' transform and against the 12 steps of SQLite's documentation
#   written by hand. sqlite-utils is the Python package: used where python3 imports it, else
#   installed (pip --user, or Debian's sqlite-utils package when run as root).
# - Both engines: migrate_add_unique with on_duplicate 'merge' against 'keep_first' on a table
#   with 1% duplicates: keep_first refuses a table that another table references, so it runs
#   without the child table; merge runs both without it (the cost of the merge path alone)
#   and with it (re-pointing the child rows).
#
# Every case runs on a fresh copy of its template; the cases are interleaved round by round and
# each figure is the median of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${2:-3}
ENGINES=${ENGINES:-sqlite postgresql}
SO="$PWD/sqlite_ext/migrate"
work=$(mktemp -d /tmp/migrate-bench-columns.XXXXXX)
chmod 755 "$work"
cleanup() { cluster_stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=lib.sh
. bench/lib.sh



# --- sqlite-utils -------------------------------------------------------------------------
# A Python that imports sqlite_utils: the one on PATH, Debian's, or after installing it.
find_sqlite_utils() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sqlite_utils' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  if command -v python3 >/dev/null &&
    python3 -m pip install --user --quiet sqlite-utils >/dev/null 2>&1 &&
    python3 -c 'import sqlite_utils' 2>/dev/null; then
    echo python3
    return 0
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q sqlite-utils >/dev/null 2>&1 &&
    /usr/bin/python3 -c 'import sqlite_utils' 2>/dev/null; then
    echo /usr/bin/python3
    return 0
  fi
  return 1
}
PY=$(find_sqlite_utils || true)

# --- SQLite -------------------------------------------------------------------------------
# users: ROWS rows, three indexes; posts: a child table (ROWS/10 rows, ON DELETE CASCADE).
# $2: 1 for 1% duplicate emails (every 100th row repeats the previous one); $3: 1 for posts.
sqlite_template() {
  local db=$work/$1.db
  sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT, team_id INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO users SELECT i, 'user' || (CASE WHEN $2 AND i % 100 = 0 THEN i - 1 ELSE i END) || '@example.com',
       'name ' || i, i % 1000 FROM n;
CREATE INDEX users_team ON users(team_id);
CREATE INDEX users_name ON users(name);
CREATE INDEX users_lower_email ON users(lower(email));
SQL
  if [ "$3" = 1 ]; then
    sqlite3 "$db" >/dev/null <<SQL
CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, title TEXT);
INSERT INTO posts SELECT id, id, 'post ' || id FROM users WHERE id % 10 = 0;
CREATE INDEX posts_user ON posts(user_id);
SQL
  fi
}

# Seconds of every statement of sql, on a fresh copy of template (a failing statement counts).
sqlite_time() {
  local template=$1 sql=$2 db=$work/run.db
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$template" "$db"
  printf '.load %s\n.timer on\n%s\n' "$SO" "$sql" | sqlite3 "$db" 2>&1 |
    awk '/^Run Time/ {t += $4; c += $6 + $8} END {print t, c}'
}

# Seconds of sqlite-utils' transform (email made NOT NULL) on a fresh copy of template, with
# foreign keys on as in the other cases (it then turns them off and runs foreign_key_check).
# sql: "transform" alone, or "transform+indexes", which also recreates the indexes, since the
# sqlite-utils of Debian 12 (3.30) drops them.
python_time() {
  local template=$1 what=$2 db=$work/run.db
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$template" "$db"
  "$PY" - "$db" "$what" <<'PY'
import sqlite3, sys, time
import sqlite_utils
db = sqlite_utils.Database(sqlite3.connect(sys.argv[1], isolation_level=None))
db.execute("PRAGMA foreign_keys = ON")
indexes = [r[0] for r in db.execute(
    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL")]
start, cpu = time.perf_counter(), time.process_time()
db["users"].transform(not_null={"email"})
if sys.argv[2] == "transform+indexes":
    with db.conn:
        for sql in indexes:
            db.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
print("%.3f %.3f" % (time.perf_counter() - start, time.process_time() - cpu))
PY
}

NEW_USERS="CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, team_id INTEGER)"
# The 12 steps of https://sqlite.org/lang_altertable.html#otheralter, written by hand.
TWELVE_STEPS="PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE new_users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, team_id INTEGER);
INSERT INTO new_users (id, email, name, team_id) SELECT id, email, name, team_id FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;
CREATE INDEX users_team ON users(team_id);
CREATE INDEX users_name ON users(name);
CREATE INDEX users_lower_email ON users(lower(email));
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;"
TWELVE_STEPS=${TWELVE_STEPS//$'\n'/ } # one line: a case is one line

s_ok=0
[[ " $ENGINES " == *" sqlite "* ]] && s_ok=1
if [ "$s_ok" = 1 ]; then
sqlite_template rebuild 0 1
sqlite_template dups 1 0
sqlite_template dups_child 1 1

read -r s_rebuild c_rebuild s_twelve c_twelve <<<"$(interleaved_cpu sqlite_time \
  "rebuild|$work/rebuild.db|PRAGMA foreign_keys = ON; SELECT migrate_rebuild('users', '$NEW_USERS');" \
  "twelve|$work/rebuild.db|$TWELVE_STEPS")"
s_utils=n/a s_utils_idx=n/a c_utils=n/a c_utils_idx=n/a
if [ -n "$PY" ]; then
  read -r s_utils c_utils s_utils_idx c_utils_idx <<<"$(interleaved_cpu python_time \
    "utils|$work/rebuild.db|transform" "utils_idx|$work/rebuild.db|transform+indexes")"
fi
read -r s_keep c_keep s_merge c_merge s_merge_child c_merge_child <<<"$(interleaved_cpu sqlite_time \
  "keep|$work/dups.db|SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');" \
  "merge|$work/dups.db|SELECT migrate_add_unique('users', 'email', NULL, 'merge');" \
  "merge_child|$work/dups_child.db|PRAGMA foreign_keys = ON; SELECT migrate_add_unique('users', 'email', NULL, 'merge');")"
fi

# --- PostgreSQL ---------------------------------------------------------------------------
pg_template() { # name duplicates(0/1) child(0/1)
  createdb "$1"
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE EXTENSION migrate;
CREATE TABLE users(id integer PRIMARY KEY, email text, name text, team_id integer);
INSERT INTO users SELECT i, 'user' || (CASE WHEN $2 = 1 AND i % 100 = 0 THEN i - 1 ELSE i END) || '@example.com',
       'name ' || i, i % 1000 FROM generate_series(1, $ROWS) i;
CREATE INDEX users_team ON users(team_id);
CREATE INDEX users_name ON users(name);
CREATE INDEX users_lower_email ON users(lower(email));
SQL
  if [ "$3" = 1 ]; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE TABLE posts(id integer PRIMARY KEY, user_id integer REFERENCES users(id) ON DELETE CASCADE, title text);
INSERT INTO posts SELECT id, id, 'post ' || id FROM users WHERE id % 10 = 0;
CREATE INDEX posts_user ON posts(user_id);
SQL
  fi
  psql -X -q -d "$1" -c 'VACUUM ANALYZE'
}
p_ok=0
if [[ " $ENGINES " == *" postgresql "* ]] && command -v pg_config >/dev/null &&
  [ -f "$(pg_config --pkglibdir)/migrate.so" ]; then
  # shellcheck source=../tests/pg/cluster.sh
  . tests/pg/cluster.sh
  if cluster_start; then
    p_ok=1
    pg_template template_clean 0 0
    pg_template template_dups 1 0
    pg_template template_dups_child 1 1
    Q="SET client_min_messages = warning;"
    read -r p_raw p_snn <<<"$(interleaved pg_fresh_time \
      "raw|template_clean|ALTER TABLE users ALTER COLUMN email SET NOT NULL" \
      "snn|template_clean|$Q SELECT migrate_set_not_null('users', 'email')")"
    read -r p_keep p_merge p_merge_child <<<"$(interleaved pg_fresh_time \
      "keep|template_dups|$Q SELECT migrate_add_unique('users', 'email', NULL, 'keep_first')" \
      "merge|template_dups|$Q SELECT migrate_add_unique('users', 'email', NULL, 'merge')" \
      "merge_child|template_dups_child|$Q SELECT migrate_add_unique('users', 'email', NULL, 'merge')")"
  fi
fi

row() { # engine case seconds base
  echo "| $1 | $2 | $3 | $(ratio "$3" "$4") |"
}
echo
echo "## Column changes against their raw equivalents ($ROWS rows, median of $RUNS runs, seconds)"
echo
echo "| engine | case | seconds | ratio |"
echo "|---|---|---|---|"
if [ "$p_ok" = 1 ]; then
  row PostgreSQL "raw ALTER TABLE ... SET NOT NULL" "$p_raw" "$p_raw"
  row PostgreSQL "migrate_set_not_null, nothing to fill" "$p_snn" "$p_raw"
else
  echo "| PostgreSQL | (skipped: not asked for, or the extension is not installed: make -C pg_ext install) | | |"
fi
if [ "$s_ok" = 1 ]; then
  rowc() { # case real base_real cpu base_cpu
    echo "| SQLite | $1 | $2 | $(ratio "$2" "$3") | $4 | $(ratio "$4" "$5") |"
  }
  echo
  echo "| engine | case | real s | ratio | CPU s | CPU ratio |"
  echo "|---|---|---|---|---|---|"
  rowc "12 steps by hand (NOT NULL added; 3 indexes, child table)" "$s_twelve" "$s_twelve" "$c_twelve" "$c_twelve"
  rowc "migrate_rebuild (the same change)" "$s_rebuild" "$s_twelve" "$c_rebuild" "$c_twelve"
  if [ -n "$PY" ]; then
    rowc "sqlite-utils transform (drops the 3 indexes)" "$s_utils" "$s_twelve" "$c_utils" "$c_twelve"
    rowc "sqlite-utils transform, then the 3 indexes recreated" "$s_utils_idx" "$s_twelve" "$c_utils_idx" "$c_twelve"
    rowc "migrate_rebuild of sqlite-utils with the indexes" "$s_rebuild" "$s_utils_idx" "$c_rebuild" "$c_utils_idx"
  else
    echo "| SQLite | sqlite-utils (skipped: not importable and not installable here) | | | | |"
  fi
  rowc "add_unique keep_first, 1% duplicates (no child table)" "$s_keep" "$s_keep" "$c_keep" "$c_keep"
  rowc "add_unique merge, 1% duplicates (no child table)" "$s_merge" "$s_keep" "$c_merge" "$c_keep"
  rowc "add_unique merge, 1% duplicates, child table re-pointed" "$s_merge_child" "$s_keep" "$c_merge_child" "$c_keep"
fi
if [ "$p_ok" = 1 ]; then
  row PostgreSQL "add_unique keep_first, 1% duplicates (no child table)" "$p_keep" "$p_keep"
  row PostgreSQL "add_unique merge, 1% duplicates (no child table)" "$p_merge" "$p_keep"
  row PostgreSQL "add_unique merge, 1% duplicates, child table re-pointed" "$p_merge_child" "$p_keep"
fi
echo
echo "Ratios: migrate_set_not_null of the raw SET NOT NULL; the SQLite rebuilds of the 12 steps by"
echo "hand; merge of keep_first. keep_first refuses a table another table references."
sqlite_utils_version=$([ -n "$PY" ] && "$PY" -c 'import sqlite_utils.cli, importlib.metadata as m; print(m.version("sqlite-utils"))' 2>/dev/null || echo none)
echo "Machine: $(nproc) cores, $(uptime | sed 's/.*load average: /load /'); SQLite $(sqlite3 --version | cut -d' ' -f1) (WAL); sqlite-utils $sqlite_utils_version; $(pg_config --version 2>/dev/null || true) (fsync off, shared_buffers 64MB)."
