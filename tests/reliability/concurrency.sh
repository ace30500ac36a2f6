#!/usr/bin/env bash
# Concurrency: 8 processes call migrate_apply on the same database, 10 times each, while new
# migration files appear in the folder (each written under a temporary name without .sql, then
# renamed), and a reader queries the application's tables throughout.
#
#   concurrency.sh sqlite delete|wal   the same SQLite file (sqlite3 shells, .timeout 60000)
#   concurrency.sh pg                  the same PostgreSQL database (psql sessions)
#
# Two runs per engine:
#   rounds  the callers go round by round (a barrier), and between rounds a writer adds a pair of
#           migrations: "ALTER TABLE a ADD COLUMN x_<k>" and "CREATE TABLE b_<k>" filled with
#           ROWS rows. A pair is in the folder whole when a round starts, so it must be applied
#           within one call: the reader checks that b_<k> exists iff column a.x_<k> does, that
#           b_<k> then has all its rows, and that history agrees with the schema.
#   free    the callers loop at their own pace (seeded pauses) while the writer adds one
#           migration every few tens of milliseconds.
# Both: every migration is applied exactly once (no version has two up rows), the counts the
# callers return add up to the number of migrations, and no caller sees an error (the busy
# timeout is generous, so not even "database is locked").
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

ENGINE=$1
JOURNAL=${2:-}
WORKERS=${CONC_WORKERS:-8}
ROUNDS=${CONC_ROUNDS:-10}
ROWS=${CONC_ROWS:-3000}
TAG="$ENGINE${JOURNAL:+ $JOURNAL}"
KEY="$ENGINE${JOURNAL:+_$JOURNAL}"

W="$REL_WORK/concurrency-$ENGINE${JOURNAL:+-$JOURNAL}"
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
cd "$W" || exit 1

# --- engine specifics ---------------------------------------------------------------------------

if [ "$ENGINE" = sqlite ]; then
  fill_sql() { # fill_sql TABLE: ROWS rows into TABLE (id)
    echo "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $ROWS) INSERT INTO $1 SELECT x FROM c;"
  }
  setup_db() {
    rm -f db db-journal db-wal db-shm
    "$SQLITE3" -batch db "PRAGMA journal_mode = $JOURNAL" >/dev/null
  }
  # apply DIR: prints what migrate_apply returned (or the error on stderr)
  apply() {
    "$SQLITE3" -batch -bail -cmd ".load $MIGRATE_SO" -cmd '.timeout 60000' db "SELECT migrate_apply('$1')"
  }
  query() { "$SQLITE3" -batch -bail -cmd '.timeout 60000' db "$1"; }
  # SQL listing what breaks the invariants, one line each; nothing when all is well
  reader_sql() {
    local k q="SELECT 'x'"
    for ((k = 1; k <= $1; k++)); do
      q+=" UNION ALL SELECT 'pair $k: b_$k ' || (SELECT count(*) FROM sqlite_schema WHERE name = 'b_$k')
                 || ' a.x_$k ' || (SELECT count(*) FROM pragma_table_info('a') WHERE name = 'x_$k')
           WHERE (SELECT count(*) FROM sqlite_schema WHERE name = 'b_$k')
                 <> (SELECT count(*) FROM pragma_table_info('a') WHERE name = 'x_$k')"
    done
    echo "$q"
  }
  tables_sql="SELECT name FROM sqlite_schema WHERE type = 'table' AND (name GLOB 'b_*' OR name GLOB 'c_*')"
  objects_sql="SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND (name GLOB 'b_*' OR name GLOB 'c_*' OR name = 'a'))
                    + (SELECT count(*) FROM pragma_table_info('a') WHERE name GLOB 'x_*')
                    - (SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success)"
  history_exists_sql="SELECT count(*) FROM sqlite_schema WHERE name = 'migrate_history'"
else
  fill_sql() {
    echo "INSERT INTO $1 SELECT x FROM generate_series(1, $ROWS) x;"
  }
  DB=rel_conc
  setup_db() {
    pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null &&
      pg_q_quiet -d "$DB" -c 'CREATE EXTENSION migrate'
  }
  apply() {
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" \
      -c "SELECT migrate_apply('$W/$1')"
  }
  query() { pg_q_quiet -d "$DB" -c "$1"; }
  reader_sql() {
    echo "SELECT 'pair ' || k || ': b_' || k || ' ' || (to_regclass('b_' || k) IS NOT NULL)
                 || ' a.x_' || k || ' ' || EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('a')
                                                    AND attname = 'x_' || k AND NOT attisdropped)
            FROM generate_series(1, $1) k
           WHERE (to_regclass('b_' || k) IS NOT NULL)
                 <> EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('a')
                            AND attname = 'x_' || k AND NOT attisdropped)"
  }
  tables_sql="SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname ~ '^[bc]_'"
  objects_sql="SELECT (SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname ~ '^([bc]_.*|a)\$')
                    + (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('a') AND attname ~ '^x_' AND NOT attisdropped)
                    - (SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success)"
  history_exists_sql="SELECT 1"
fi

# put DIR NAME TEXT: write a migration atomically (temporary name without .sql, then rename).
put() {
  printf '%s\n' "$3" >"$1/tmp.$2.partial"
  mv "$1/tmp.$2.partial" "$1/$2"
}

add_pair() { # add_pair DIR K
  local v1 v2
  printf -v v1 '%04d' $((2 * $2))
  printf -v v2 '%04d' $((2 * $2 + 1))
  # the pair appears whole before the round starts; within it, the first half goes last so a
  # caller between the two renames could only see the pair's start (and never did: the barrier)
  put "$1" "${v2}_create_b_$2.sql" "CREATE TABLE b_$2 (id INTEGER);
$(fill_sql "b_$2")"
  put "$1" "${v1}_add_a_x_$2.sql" "ALTER TABLE a ADD COLUMN x_$2 INTEGER;"
}

# The reader: one long-lived session (a coprocess) that checks the invariants until the stop file
# appears; writes every broken invariant to reader.bad and its number of checks to reader.n.
# Each query is one statement, so it sees one snapshot.
reader() {
  local pairs=$1 n=0 out tables t q sql
  sql=$(reader_sql "$pairs")
  : >reader.bad
  if [ "$ENGINE" = sqlite ]; then
    coproc RQ { "$SQLITE3" -batch -cmd '.timeout 60000' db 2>&1; }
  else
    coproc RQ { psql -X -q -At -d "$DB" 2>&1; }
  fi
  # rq SQL: run one statement in the reader's session, print its output
  rq() {
    local line
    printf '%s;\nSELECT %s;\n' "$1" "'__end__'" >&"${RQ[1]}"
    while IFS= read -r line <&"${RQ[0]}"; do
      [ "$line" = __end__ ] && break
      printf '%s\n' "$line"
    done
  }
  while [ ! -e stop ]; do
    if [ "$(rq "$history_exists_sql")" != 1 ]; then
      sleep 0.01
      continue
    fi
    out=$(rq "$sql")
    [ -n "$out" ] && [ "$out" != x ] && printf '%s\n' "$out" | grep -v '^x$' >>reader.bad
    out=$(rq "$objects_sql")
    [ "$out" = 0 ] || echo "history and schema disagree (objects - history rows = $out)" >>reader.bad
    # tables only ever appear, so the ones listed can be counted by the next query
    tables=$(rq "$tables_sql")
    q=
    for t in $tables; do
      q+="${q:+ UNION ALL }SELECT '$t' || '|' || count(*) FROM $t"
    done
    if [ -n "$q" ]; then
      out=$(rq "$q")
      printf '%s\n' "$out" | grep -Ev "^b_[0-9]+\|$ROWS\$|^c_[0-9]+\|1\$" | sed 's/^/rows: /' >>reader.bad
    fi
    n=$((n + 1))
  done
  local wfd=${RQ[1]}
  exec {wfd}>&- # end of input: the session ends
  wait "$RQ_PID" 2>/dev/null
  echo "$n" >reader.n
}

# A caller: ROUNDS calls; with a barrier, call r waits for go.r. Writes worker.<w>.counts
# (one result per line) and worker.<w>.err.
worker() {
  local w=$1 barrier=$2 r out i pause
  : >"worker.$w.counts"
  : >"worker.$w.err"
  for ((r = 1; r <= ROUNDS; r++)); do
    if [ "$barrier" = 1 ]; then
      for ((i = 0; i < 6000; i++)); do
        [ -e "go.$r" ] && break
        sleep 0.01
      done
    else
      pause=$(rand_below 60 "conc:$ENGINE:$w:$r")
      sleep "$(printf '0.%03d' "$pause")"
    fi
    if out=$(apply m 2>>"worker.$w.err"); then
      echo "$out" >>"worker.$w.counts"
    else
      echo "call $r failed" >>"worker.$w.err"
    fi
    [ "$barrier" = 1 ] && touch "done.$w.$r"
  done
}

# check_common EXPECTED_MIGRATIONS: exactly once, counts add up, no caller error.
check_common() {
  local expected=$1 total=0 w c dup errs=""
  dup=$(query "SELECT version || ' x' || count(*) FROM migrate_history WHERE direction = 'up' AND success
               GROUP BY version HAVING count(*) > 1" 2>&1)
  expect_eq "versions applied more than once" "" "$dup"
  DUPLICATES=$dup
  expect_eq "up rows in history" "$expected" \
    "$(query "SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success" 2>&1)"
  expect_eq "failed rows in history" 0 "$(query "SELECT count(*) FROM migrate_history WHERE NOT success" 2>&1)"
  for ((w = 1; w <= WORKERS; w++)); do
    while read -r c; do
      [[ $c =~ ^[0-9]+$ ]] && total=$((total + c))
    done <"worker.$w.counts"
    [ -s "worker.$w.err" ] && errs+="caller $w: $(cat "worker.$w.err")"$'\n'
  done
  CALLER_ERRORS=$errs
  CALLS_TOTAL=$total
  CALL_FAILURES=$(cat worker.*.err | grep -c '^call [0-9]* failed$')
}

run_rounds() {
  check_begin "concurrency ($TAG): $WORKERS callers x $ROUNDS rounds, pairs added between rounds, a reader throughout"
  setup_db || { fail "could not create the database"; check_end; return; }
  rm -rf m && mkdir m && chmod 755 m
  put m 0001_create_a.sql "CREATE TABLE a (id INTEGER PRIMARY KEY);"
  add_pair m 1
  local pairs=$((ROUNDS + 1)) w r i k=1 waited
  rm -f stop go.* done.*
  reader "$pairs" &
  local reader_pid=$!
  for ((w = 1; w <= WORKERS; w++)); do
    worker "$w" 1 &
  done
  for ((r = 1; r <= ROUNDS; r++)); do
    if [ "$r" -gt 1 ]; then
      k=$((k + 1))
      add_pair m "$k"
    fi
    touch "go.$r"
    for ((i = 0; i < 6000; i++)); do
      waited=0
      for ((w = 1; w <= WORKERS; w++)); do
        [ -e "done.$w.$r" ] && waited=$((waited + 1))
      done
      [ "$waited" -eq "$WORKERS" ] && break
      sleep 0.01
    done
    [ "$waited" -eq "$WORKERS" ] || fail "round $r did not end within 60 s"
  done
  wait_workers
  touch stop
  wait "$reader_pid"
  local migrations=$((1 + 2 * k))
  check_common "$migrations"
  stat "conc_${KEY}_rounds_once" "$([ -z "$DUPLICATES" ] && echo yes || echo NO)"
  stat "conc_${KEY}_rounds_errors" "$CALL_FAILURES"
  expect_eq "sum of what the callers applied" "$migrations" "$CALLS_TOTAL"
  expect_eq "errors seen by the callers" "" "$CALLER_ERRORS"
  expect_eq "what the reader saw break" "" "$(sort -u reader.bad | head -20)"
  local checks
  checks=$(cat reader.n 2>/dev/null || echo 0)
  [ "$checks" -gt 0 ] || fail "the reader never checked anything"
  expect_eq "a final call" 0 "$(apply m 2>&1)"
  check_end
  echo "# concurrency ($TAG, rounds): $migrations migrations, $((WORKERS * ROUNDS)) calls, the reader checked $checks times"
  stat "conc_${KEY}_rounds_migrations" "$migrations"
  stat "conc_${KEY}_rounds_calls" "$((WORKERS * ROUNDS))"
  stat "conc_${KEY}_rounds_reader_checks" "$checks"
}

wait_workers() {
  local pid
  for pid in $(jobs -p); do
    [ "$pid" = "${reader_pid:-}" ] && continue
    wait "$pid" 2>/dev/null
  done
}

# Known bugs (see the report): only these messages are tolerated, as known failures; anything
# else fails.
#  - a caller reads the folder before it waits for the lock; when a migration appears and another
#    caller applies it meanwhile, the waiting caller reports it "missing";
#  - an entry renamed away between the listing of the folder and its stat() (the writer's
#    temporary file) fails the call as "a dangling symbolic link".

run_free() {
  check_begin "concurrency ($TAG): $WORKERS callers x $ROUNDS calls at their own pace while migrations appear"
  setup_db || { fail "could not create the database"; check_end; return; }
  rm -rf m && mkdir m && chmod 755 m
  put m 0001_create_a.sql "CREATE TABLE a (id INTEGER PRIMARY KEY);"
  rm -f stop
  local w i added=0 v
  reader 0 &
  reader_pid=$!
  for ((w = 1; w <= WORKERS; w++)); do
    worker "$w" 0 &
  done
  # the writer: one migration every 20-60 ms while the callers run
  for ((i = 1; i <= 15; i++)); do
    sleep "$(printf '0.%03d' $((20 + $(rand_below 40 "conc:writer:$ENGINE:$i"))))"
    printf -v v '%04d' $((100 + i))
    put m "${v}_create_c_$i.sql" "CREATE TABLE c_$i (id INTEGER);
INSERT INTO c_$i VALUES (1);"
    added=$((added + 1))
  done
  wait_workers
  touch stop
  wait "$reader_pid"
  # whatever the callers left pending, one more call applies
  local last
  last=$(apply m 2>&1)
  [[ $last =~ ^[0-9]+$ ]] || fail "a final call failed: $last"
  check_common $((1 + added))
  stat "conc_${KEY}_free_once" "$([ -z "$DUPLICATES" ] && echo yes || echo NO)"
  stat "conc_${KEY}_free_errors" "$CALL_FAILURES"
  [[ $last =~ ^[0-9]+$ ]] && CALLS_TOTAL=$((CALLS_TOTAL + last))
  expect_eq "sum of what the callers applied" $((1 + added)) "$CALLS_TOTAL"
  expect_eq "what the reader saw break" "" "$(sort -u reader.bad | head -20)"
  local known=0 other
  other=$(printf '%s' "$CALLER_ERRORS" | grep -Ev '^(caller [0-9]+: )?call [0-9]+ failed$|^(caller [0-9]+: )?HINT:|^$')
  [ -z "$other" ] || fail "errors seen by the callers: $CALLER_ERRORS"
  local checks
  checks=$(cat reader.n 2>/dev/null || echo 0)
  check_end
  echo "# concurrency ($TAG, free): $((1 + added)) migrations, $((WORKERS * ROUNDS)) calls, $known calls hit the known race, the reader checked $checks times"
  stat "conc_${KEY}_free_migrations" "$((1 + added))"
  stat "conc_${KEY}_free_calls" "$((WORKERS * ROUNDS))"
  stat "conc_${KEY}_free_race" "$known"
  stat "conc_${KEY}_free_reader_checks" "$checks"
}

stat "conc_${KEY}_workers" "$WORKERS"
stat "conc_${KEY}_rounds" "$ROUNDS"
run_rounds
run_free
[ "$ENGINE" = pg ] && pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
exit 0
