#!/usr/bin/env bash
# Crashes on PostgreSQL at named points. Each point is a gate: a statement that waits for an
# advisory lock (4242, P) which a watcher session holds, so the call stops at exactly that place
# (the watcher sees it waiting in pg_locks, and its application_name names the place), and is
# ended there in one of three ways:
#   sigkill    SIGKILL to the backend: the postmaster ends every backend and recovers;
#   terminate  pg_terminate_backend() from the watcher's session;
#   immediate  the whole server: pg_ctl stop -m immediate, then started again (recovery).
#
# These calls are ended that way:
#   apply   one migrate_apply of 40 migrations (0006..0045, some slow: 5000-row inserts,
#           indexes, views, triggers). Gates at the start of a migration (right after the one
#           before it was recorded: between migrations), in its middle, at the end of its
#           script, in the history INSERT (a BEFORE INSERT trigger on migrate_history), and in
#           COMMIT (deferred constraint triggers: one on a table every migration inserts into,
#           one that migration 0045 creates). After each kill: amcheck (bt_index_check of every btree index, history
#           and application tables and catalogs, verify_heapam of every heap) is clean; the
#           database is exactly as before the call or exactly as after it (schema, rows, history);
#           no advisory lock is left; a new migrate_apply ends where a clean run ends.
#   script  migrate_script's output piped into psql (each migration its own transaction; 0008
#           marked -- migrate:no-transaction: DROP INDEX CONCURRENTLY IF EXISTS, then CREATE INDEX
#           CONCURRENTLY). Gates inside a migration, in migrate_record's history INSERT, in a
#           COMMIT, between the marked migration's statements, after them, at the start of the
#           next one, and one more point inside CREATE INDEX CONCURRENTLY (the watcher holds an
#           old snapshot that it waits for). After each kill: amcheck is clean; the database is
#           exactly the state a clean piped run reaches at the version history ends at (every
#           transactional migration whole or absent, with or without its history row), apart
#           from what the marked migration did when it was ended inside it (it is idempotent and
#           never recorded then); the same pipe again ends where a clean piped run ends. Ended
#           inside CREATE INDEX CONCURRENTLY, the INVALID index it leaves is named by the next
#           run, which changes nothing (as the README says); after the DROP INDEX CONCURRENTLY
#           its hint gives, the pipe ends where a clean run ends.
#   batches CALL migrate_apply_batches over the same 40 migrations, 10 per batch (0006..0015,
#           ..., 0036..0045), each batch committed before the next. Gates at the COMMIT of a
#           batch, at the start of the first migration of the next one, and in a history INSERT
#           inside a later batch. After each kill: amcheck is clean, no advisory lock is left,
#           history ends at a batch's last migration, and the database is exactly what a clean
#           migrate_apply up to that version leaves; the same CALL again ends where a clean run
#           ends.
#   check   migrate_check over the same 40 migrations (the rehearsal runs each in a savepoint and
#           rolls everything back; migrate.check_lock_timeout=0, so it waits at the gates). After
#           each kill the database is exactly as before (schema, rows, history, drift record),
#           no advisory lock is left, and the same rehearsal reports what a clean one reports.
#   notnull migrate_set_not_null of t_items.email (1666 NULLs of 5000 rows, filled by an
#           expression), addcol migrate_add_column of t_items.handle (filled), merge
#           migrate_add_unique(t_users.email, on_duplicate => 'merge': 500 duplicates moved aside,
#           t_posts re-pointed), each after an INSERT into t_gate in the same transaction. Gates in
#           the fill expression (mid-UPDATE), an event trigger at the start and end of each ALTER
#           TABLE (ADD CONSTRAINT NOT VALID, VALIDATE CONSTRAINT, SET NOT NULL, DROP CONSTRAINT),
#           row triggers on the re-pointed and the moved rows, a BEFORE INSERT trigger on
#           migrate_schema_history (the drift record), and COMMIT. After each kill the database is
#           exactly as before the call or as after a clean one; the same statements again end
#           where a clean call ends (migrate_add_column, when it had committed, refuses with the
#           engine's error and changes nothing).
# Every state compared includes the drift record: the newest migrate_schema_history row (the
# drift record gate is killed in apply and, thorough, in batches and merge), how many there are,
# and that migrate_drift() finds nothing.
#
# REL_CRASH_FULL=1 adds more gates (every fifth migration's start, more history rows and
# commits) to each way of dying.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"
# shellcheck source=../pg/cluster.sh
. "$HERE/../pg/cluster.sh" # as_owner, PG_BINDIR; CLUSTER_DIR comes from run.sh

CRASH_ROWS=${CRASH_ROWS:-5000}
TOTAL=45
BEFORE=5
S_TOTAL=12
S_BEFORE=2
S_MARKED=8
GATE=4242
BATCH=10 # migrations per batch of CALL migrate_apply_batches

# gate V SLOT WHAT: the SQL of a gate (slot 1 start, 2 middle, 3 end; 4 and 5 are the history
# triggers', 6 migration 0045's commit trigger): names the place in application_name, then waits
# while the watcher holds the key. Inside a transaction the key is released at its end; in
# autocommit at once.
gate() {
  local v=$1 slot=$2 what=$3
  printf "SELECT set_config('application_name', 'migrate-crash:%s %s', false);\nSELECT pg_advisory_xact_lock_shared(%d, %d);" \
    "$v" "$what" "$GATE" $((10#$v * 10 + slot))
}

gen_migrations() {
  local dir=$1 k v t body
  mkdir -p "$dir"
  for ((k = 1; k <= TOTAL; k++)); do
    printf -v v '%04d' "$k"
    t="t_$v"
    body="$(gate "$v" 1 start)
INSERT INTO t_gate VALUES ('$v');
CREATE TABLE $t (id serial PRIMARY KEY, n integer NOT NULL, s text);"
    case $((k % 10)) in
      3) body+="
INSERT INTO $t (n, s) SELECT x, 'row ' || x FROM generate_series(1, $CRASH_ROWS) x;
$(gate "$v" 2 middle)
CREATE INDEX ${t}_n ON $t (n);" ;;
      9) body+="
INSERT INTO $t (n, s) VALUES ($k, 'a'), ($k + 1, 'b;c'), ($k + 2, \$\$-- not a comment\$\$);
ALTER TABLE $t ADD COLUMN extra text DEFAULT 'x';
CREATE VIEW v_$v AS SELECT n, s FROM $t WHERE n > 0;
$(gate "$v" 2 middle)
CREATE FUNCTION f_$v() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  NEW.extra := 'y';
  RETURN NEW;
END
\$\$;
CREATE TRIGGER tr_$v BEFORE INSERT ON $t FOR EACH ROW EXECUTE FUNCTION f_$v();
INSERT INTO $t (n, s) VALUES (0, 'after trigger');" ;;
      *) body+="
INSERT INTO $t (n, s) VALUES ($k, 'migration $k');
$(gate "$v" 2 middle)
CREATE INDEX ${t}_s ON $t (s);" ;;
    esac
    if [ "$k" -eq "$TOTAL" ]; then
      body+="
CREATE FUNCTION at_commit_$v() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM set_config('application_name', 'migrate-crash:$v own commit trigger', false);
  PERFORM pg_advisory_xact_lock_shared($GATE, ${k}6);
  RETURN NULL;
END
\$\$;
CREATE CONSTRAINT TRIGGER at_commit_$v AFTER INSERT ON $t
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION at_commit_$v();
INSERT INTO $t (n, s) VALUES (-1, 'its trigger runs while the transaction commits');"
    fi
    body+="
$(gate "$v" 3 end)"
    write_migration "$dir" "$k" "${v}_create_$t" "$body" "DROP TABLE $t;"
  done
}

# The migrate_script folder: 12 small migrations on table s_main; 0008 is marked no-transaction
# and idempotent (an interrupted run is run again from its start).
gen_script_migrations() {
  local dir=$1 k v body
  mkdir -p "$dir"
  for ((k = 1; k <= S_TOTAL; k++)); do
    printf -v v '%04d' "$k"
    if [ "$k" -eq 1 ]; then
      body="INSERT INTO t_gate VALUES ('$v');
CREATE TABLE s_main (id serial PRIMARY KEY, n integer NOT NULL, s text);
INSERT INTO s_main (n, s) SELECT x, 'row ' || x FROM generate_series(1, $CRASH_ROWS) x;"
    elif [ "$k" -eq "$S_MARKED" ]; then
      body="-- migrate:no-transaction
$(gate "$v" 1 'marked, before DROP INDEX')
DROP INDEX CONCURRENTLY IF EXISTS nt_s_main_n;
$(gate "$v" 2 'marked, before CREATE INDEX')
CREATE INDEX CONCURRENTLY nt_s_main_n ON s_main (n);
$(gate "$v" 3 'marked, after CREATE INDEX')"
    else
      body="$(gate "$v" 1 start)
INSERT INTO t_gate VALUES ('$v');
ALTER TABLE s_main ADD COLUMN c_$v integer NOT NULL DEFAULT $k;
UPDATE s_main SET n = n + $k WHERE id % $k = 0;
$(gate "$v" 2 middle)
CREATE TABLE s_$v (id integer PRIMARY KEY, s text);
INSERT INTO s_$v SELECT id, s FROM s_main WHERE id % $k = 1;
$(gate "$v" 3 end)"
    fi
    printf '%s\n' "$body" >"$dir/${v}_step_$k.sql"
  done
}

# The history and commit gates, in the template databases before the state "before the call": a
# BEFORE INSERT trigger on migrate_history (slot 4), and a deferred constraint trigger on t_gate
# (slot 5, run while the transaction commits), into which every transactional migration inserts
# its version (migrate_history cannot have one: the history row is written in a
# security-restricted operation, which refuses to queue deferred triggers). Versions are numbers
# here, so the key is version*10 + slot.
history_gates_sql() {
  cat <<SQL
CREATE FUNCTION rel_history_insert_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM set_config('application_name', 'migrate-crash:' || NEW.version || ' history insert', false);
  PERFORM pg_advisory_xact_lock_shared($GATE, NEW.version::int * 10 + 4);
  RETURN NEW;
END
\$\$;
CREATE TRIGGER rel_history_insert_gate BEFORE INSERT ON migrate_history
  FOR EACH ROW EXECUTE FUNCTION rel_history_insert_gate();
CREATE TABLE t_gate (v text NOT NULL);
CREATE FUNCTION rel_commit_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM set_config('application_name', 'migrate-crash:' || NEW.v || ' commit', false);
  PERFORM pg_advisory_xact_lock_shared($GATE, NEW.v::int * 10 + 5);
  RETURN NULL;
END
\$\$;
CREATE CONSTRAINT TRIGGER rel_commit_gate AFTER INSERT ON t_gate
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rel_commit_gate();
CREATE FUNCTION rel_drift_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE
  v integer := (SELECT h.version::integer FROM public.migrate_history h WHERE h.id = NEW.history_id);
BEGIN
  PERFORM set_config('application_name', 'migrate-crash:' || lpad(coalesce(v, 0)::text, 4, '0') || ' drift record', false);
  PERFORM pg_advisory_xact_lock_shared($GATE, coalesce(v, 0) * 10 + 7);
  RETURN NEW;
END
\$\$;
CREATE TRIGGER rel_drift_gate BEFORE INSERT ON migrate_schema_history
  FOR EACH ROW EXECUTE FUNCTION rel_drift_gate();
SQL
}

# The columns template (migrate_set_not_null, migrate_add_column, migrate_add_unique with merge):
# t_items (5000 rows, every third email NULL), t_users (2000 rows, users 1501..2000 duplicate the
# emails of 1..500) and t_posts (5000 rows referencing t_users), with their gates:
#   rel_fill(id, V), the fill expression: at row 2499 (of 5000) it waits at key V*10 + 2;
#   an event trigger at the start and the end of every ALTER TABLE of a session whose rel.call
#   is V: the Nth waits at key 100000 + V*100 + 2N - 1 as it starts, + 2N as it ends;
#   t_posts' BEFORE UPDATE trigger (a re-pointed row, post 3600) and t_users' BEFORE DELETE
#   trigger (a duplicate moved aside, user 1800), at keys 1032 and 1033 (V = 0103).
# t_gate's versions are unique there, so the call's INSERT ... ON CONFLICT DO NOTHING queues its
# commit gate (V*10 + 5) once, and the same statements run again change nothing more.
columns_sql() {
  cat <<SQL
CREATE UNIQUE INDEX t_gate_v ON t_gate (v);
CREATE FUNCTION rel_fill(id integer, v text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
  IF id = 2499 THEN
    PERFORM set_config('application_name', 'migrate-crash:' || v || ' fill, row 2499 of 5000', false);
    PERFORM pg_advisory_xact_lock_shared($GATE, v::integer * 10 + 2);
  END IF;
  RETURN 'filled ' || id;
END
\$\$;
CREATE FUNCTION rel_ddl_gate() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
DECLARE
  v text := current_setting('rel.call', true);
  n integer := coalesce(nullif(current_setting('rel.alters', true), ''), '0')::integer;
BEGIN
  IF coalesce(v, '') = '' THEN
    RETURN;
  END IF;
  IF tg_event = 'ddl_command_start' THEN
    n := n + 1;
    PERFORM set_config('rel.alters', n::text, false);
  END IF;
  PERFORM set_config('application_name', format('migrate-crash:%s ALTER TABLE %s %s', v, n,
    CASE tg_event WHEN 'ddl_command_start' THEN 'starting' ELSE 'done' END), false);
  PERFORM pg_advisory_xact_lock_shared($GATE, 100000 + v::integer * 100 + 2 * n
    - CASE tg_event WHEN 'ddl_command_start' THEN 1 ELSE 0 END);
END
\$\$;
CREATE EVENT TRIGGER rel_ddl_gate_start ON ddl_command_start WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION rel_ddl_gate();
CREATE EVENT TRIGGER rel_ddl_gate_end ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION rel_ddl_gate();
CREATE TABLE t_items (id integer PRIMARY KEY, name text NOT NULL, email text);
INSERT INTO t_items SELECT x, 'item ' || x, CASE WHEN x % 3 = 0 THEN NULL ELSE 'e' || x END
  FROM generate_series(1, 5000) x;
CREATE TABLE t_users (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO t_users SELECT x, 'u' || ((x - 1) % 1500 + 1) FROM generate_series(1, 2000) x;
CREATE TABLE t_posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES t_users (id), body text);
INSERT INTO t_posts SELECT x, x % 2000 + 1, 'post ' || x FROM generate_series(1, 5000) x;
CREATE FUNCTION rel_row_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF (TG_OP = 'UPDATE' AND OLD.id = 3600) OR (TG_OP = 'DELETE' AND OLD.id = 1800) THEN
    PERFORM set_config('application_name', 'migrate-crash:0103 ' || TG_OP || ' of ' || TG_TABLE_NAME
      || ' row ' || OLD.id, false);
    PERFORM pg_advisory_xact_lock_shared($GATE, CASE TG_OP WHEN 'UPDATE' THEN 1032 ELSE 1033 END);
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
\$\$;
CREATE TRIGGER rel_repoint_gate BEFORE UPDATE ON t_posts FOR EACH ROW EXECUTE FUNCTION rel_row_gate();
CREATE TRIGGER rel_move_gate BEFORE DELETE ON t_users FOR EACH ROW EXECUTE FUNCTION rel_row_gate();
SQL
}

# The columns calls: their version V (rel.call, the keys of their gates) and their statements
# (one implicit transaction; the same statements are the rerun).
declare -A C_V=([notnull]=0101 [addcol]=0102 [merge]=0103)
declare -A C_SQL=(
  [notnull]="INSERT INTO t_gate VALUES ('0101') ON CONFLICT DO NOTHING; SELECT migrate_set_not_null('t_items', 'email', 'public.rel_fill(id, ''0101'')')"
  [addcol]="INSERT INTO t_gate VALUES ('0102') ON CONFLICT DO NOTHING; SELECT migrate_add_column('t_items', 'handle', 'text', 'public.rel_fill(id, ''0102'')', '''anon''')"
  [merge]="INSERT INTO t_gate VALUES ('0103') ON CONFLICT DO NOTHING; SELECT migrate_add_unique('t_users', 'email', NULL, 'merge')"
)

# fingerprint DB [EXCLUDE]: the schema public (relations, columns, indexes and whether they are
# valid, constraints, triggers, views, functions), the rows of every t_*/s_* table (count, md5;
# without the time a quarantine table's migrate_moved_at holds), the history without
# times and ids, and the drift record: the newest migrate_schema_history row (operation,
# fingerprint, the version of the history row it follows), whether migrate_drift() finds the
# schema as that row describes it, and (unless FP_DRIFT_ROWS=0: a batched call records one per
# batch) how many rows there are. Relations whose name matches the regex EXCLUDE are left out.
fingerprint() {
  local db=$1 ex=${2:-^$} rows='(SELECT count(*) FROM migrate_schema_history)'
  [ "${FP_DRIFT_ROWS:-1}" = 0 ] && rows="'-'"
  pg_q_quiet -d "$db" -c "
    SELECT c.relname, c.relkind, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
           a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
      FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relnamespace = 'public'::regnamespace AND c.relname !~ '$ex' ORDER BY 1, 3;
    SELECT pg_get_indexdef(indexrelid), indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'public'::regnamespace AND c.relname !~ '$ex' ORDER BY 1;
    SELECT conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2;
    SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal ORDER BY 1;
    SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1;
    SELECT p.oid::regprocedure, md5(pg_get_functiondef(p.oid)) FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1;" || return 1
  pg_q_quiet -d "$db" <<SQL
SELECT string_agg(format('SELECT %L, count(*), md5(string_agg(r::text, %L ORDER BY r::text)) FROM (SELECT %s FROM %I) r',
                         c.relname, ',', cols, c.relname), ' UNION ALL ' ORDER BY c.relname) || ' ORDER BY 1'
  FROM pg_class c, LATERAL (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                             WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
                               AND attname <> 'migrate_moved_at') a (cols)
 WHERE c.relkind = 'r' AND c.relname ~ '^[ts]_[0-9a-z_]+\$' AND c.relnamespace = 'public'::regnamespace
\\gexec
SELECT version, name, direction, checksum, down_checksum, script, success FROM migrate_history ORDER BY id;
SELECT 'drift record', s.operation, s.fingerprint, h.version FROM migrate_schema_history s
  LEFT JOIN migrate_history h ON h.id = s.history_id ORDER BY s.id DESC LIMIT 1;
SELECT 'drift records', $rows, (SELECT count(*) FROM migrate_drift());
SQL
}

# counts DB: "<application tables> <up history rows>"
counts() {
  pg_q_quiet -d "$1" -c "SELECT (SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^[ts]_[0-9]+\$' AND relnamespace = 'public'::regnamespace)
                        || ' ' || (SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success)"
}

# amcheck over every valid btree index (migrate_history's, the application tables', the
# catalogs') and every heap of the database; prints the problems, nothing when all is well.
# The number of indexes checked goes to $W/amcheck.n.
corruption() {
  local out
  out=$(pg_q_quiet -d "$1" -c "
    SELECT count(bt_index_check(c.oid, true))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
     WHERE a.amname = 'btree' AND i.indisvalid AND c.relpersistence <> 't'" -c "
    SELECT c.relname || ' block ' || v.blkno || ': ' || v.msg
      FROM pg_class c, LATERAL verify_heapam(c.oid) v
     WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence <> 't'" 2>&1)
  printf '%s\n' "$out" | grep -m1 '^[0-9][0-9]*$' >"$W/amcheck.n"
  printf '%s\n' "$out" | grep -v '^[0-9]*$'
}

# Wait (bounded) until the server accepts connections again after recovery.
wait_ready() {
  local i
  for ((i = 0; i < 600; i++)); do
    if pg_isready -q && pg_q_quiet -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# The whole server: immediate stop (no checkpoint, every backend ended), then started again with
# the options it ran with (recovery replays the WAL).
server_immediate_restart() {
  local data=$CLUSTER_DIR/data opts
  opts=$(sed -e 's/^[^ ]* "-D" "[^"]*" *//' "$data/postmaster.opts")
  as_owner "$PG_BINDIR/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null 2>&1 || return 1
  without_fds as_owner "$PG_BINDIR/pg_ctl" -D "$data" -l "$CLUSTER_DIR/server.log" -o "$opts" -w -t 60 start </dev/null >/dev/null 2>&1
}

# without_fds CMD...: CMD with only stdin, stdout and stderr open. A server started from here must
# not inherit the test's descriptors: the watcher's pipes, or the lock file of a flock around the
# run, which it would hold for as long as it runs.
without_fds() {
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done 2>/dev/null
    "$@"
  )
}

# The watcher: one psql session (a coprocess) on the victim's database.
watcher_start() {
  coproc WATCH { psql -X -q -At -v ON_ERROR_STOP=0 -d "$1" 2>&1; }
}
# wq SQL: one statement in the watcher's session; prints its output ("" if the session is gone)
wq() {
  local line
  { printf '%s;\nSELECT %s;\n' "$1" "'__end__'" >&"${WATCH[1]}"; } 2>/dev/null || return 1
  while IFS= read -r -t 30 line <&"${WATCH[0]}"; do
    [ "$line" = __end__ ] && return 0
    printf '%s\n' "$line"
  done
  return 1
}
watcher_stop() {
  local wfd=${WATCH[1]:-} pid=${WATCH_PID:-}
  [ -n "$wfd" ] && exec {wfd}>&- 2>/dev/null
  [ -n "$pid" ] && wait "$pid" 2>/dev/null
  return 0
}

# hold GATE: the watcher takes what makes the victim wait. lock:P holds the advisory key P;
# snapshot holds a REPEATABLE READ snapshot (CREATE INDEX CONCURRENTLY waits for it).
hold() {
  case $1 in
    lock:*) [ "$(wq "SELECT 'held' FROM pg_advisory_lock($GATE, ${1#lock:})")" = held ] ;;
    snapshot) wq 'BEGIN ISOLATION LEVEL REPEATABLE READ' >/dev/null &&
      [ "$(wq "SELECT 'held' FROM pg_class LIMIT 1")" = held ] ;;
  esac
}

# waiting GATE: "pid|application_name|wait_event" of the victim once it waits at the gate,
# "-" until then.
waiting() {
  case $1 in
    lock:*) wq "SELECT coalesce(max(a.pid || '|' || a.application_name || '|' || coalesce(a.wait_event, '-')), '-')
                  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.classid = $GATE AND l.objid = ${1#lock:}
                   AND l.objsubid = 2 AND NOT l.granted" ;;
    snapshot) wq "SELECT pg_stat_clear_snapshot()" >/dev/null # the watcher is inside a transaction
      wq "SELECT coalesce(max(a.pid || '|' || a.application_name || '|' || coalesce(a.wait_event, '-')), '-')
                    FROM pg_stat_activity a
                   WHERE a.application_name LIKE 'migrate-crash:%' AND a.wait_event = 'virtualxid'" ;;
  esac
}

# script_pipe DB: migrate_script's output piped into psql, as the README shows it
script_pipe() {
  pg_q_quiet -d "$1" -c "SELECT statement FROM migrate_script('$SDIR') ORDER BY seq" |
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" >/dev/null
}

# check_report DB: what migrate_check reports on the apply folder, less the times
check_report() {
  pg_q_quiet -d "$1" -c "SELECT version, outcome, after_failure, error, statements, rows_changed, findings
                           FROM migrate_check('$DIR') ORDER BY version"
}

# script_exclude H: what to leave out of the comparison when history ends at H: the marked
# migration's objects while it is the next one (it may have been ended inside), nothing otherwise.
script_exclude() {
  if [ "$((10#$1))" -eq $((S_MARKED - 1)) ]; then echo '^nt_'; else echo '^$'; fi
}

# kill_point CALL LABEL HOW GATE: run CALL (apply or script) on a fresh copy of the state before
# it, stop it at GATE, end it HOW, check.
# history_end_state LABEL DB FPS FIRST LAST COUNTS [EXCLUDE]: history must end at a version a
# clean run stops at (a key of the associative array named FPS, whose values are the clean
# fingerprints there), and the database (less the relations matching EXCLUDE) must be exactly
# that state. Sets state to before (FIRST), between, after (LAST) or mixed (and fails).
history_end_state() {
  local label=$1 db=$2 first=$4 last=$5 c=$6 ex=${7:-^$} h fp
  local -n fps=$3
  h=$(pg_q_quiet -d "$db" -c "SELECT coalesce(max(version), '0000') FROM migrate_history WHERE direction = 'up' AND success" 2>&1)
  fp=$(fingerprint "$db" "$ex" 2>&1)
  if [ -z "${fps[$h]:-}" ]; then
    state=mixed
    fail "$label: history ends at $h, which no clean run stops at; tables and history: $c"
  elif [ "$fp" == "${fps[$h]}" ]; then
    if [ "$h" = "$(printf '%04d' "$first")" ]; then state=before; elif [ "$h" = "$(printf '%04d' "$last")" ]; then state=after; else state=between; fi
  else
    state=mixed
    fail "$label: history ends at $h but the database is not what a clean run has there; tables and history: $c"$'\n'"$(diff <(printf '%s\n' "${fps[$h]}") <(printf '%s\n' "$fp") | head -20)"
  fi
}

kill_point() {
  local call=$1 label=$2 how=$3 gate=$4 db victim rc out fp state c i pid='' seen='' event='' w
  case $call in
    script) db=rel_crash_s ;;
    notnull | addcol | merge) db=rel_crash_c ;;
    *) db=rel_crash ;;
  esac
  out=$(pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db TEMPLATE ${db}_tpl STRATEGY FILE_COPY" 2>&1) ||
    { fail "$label: could not copy the state before the call: $out"; return 1; }
  watcher_start "$db"
  hold "$gate" || { fail "$label: the watcher could not take $gate"; watcher_stop; return 1; }
  {
    if [ "$call" = apply ]; then
      PGAPPNAME=migrate-crash:call psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
        -c "SELECT migrate_apply('$DIR')" >"$W/victim.out" 2>"$W/victim.err" &
    elif [ "$call" = batches ]; then
      PGAPPNAME=migrate-crash:call psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
        -c "CALL migrate_apply_batches('$DIR', NULL, $BATCH)" >"$W/victim.out" 2>"$W/victim.err" &
    elif [ "$call" = check ]; then # the gates are lock waits: the rehearsal must not time them out
      PGAPPNAME=migrate-crash:call PGOPTIONS='-c migrate.check_lock_timeout=0' psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
        -c "SELECT count(*) FROM migrate_check('$DIR')" >"$W/victim.out" 2>"$W/victim.err" &
    elif [ -n "${C_V[$call]:-}" ]; then
      PGAPPNAME=migrate-crash:call PGOPTIONS="-c rel.call=${C_V[$call]}" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
        -c "${C_SQL[$call]}" >"$W/victim.out" 2>"$W/victim.err" &
    else
      { pg_q_quiet -d "$db" -c "SELECT statement FROM migrate_script('$SDIR') ORDER BY seq" |
        PGAPPNAME=migrate-crash:call psql -X -q -At -v ON_ERROR_STOP=1 -d "$db"; } >"$W/victim.out" 2>"$W/victim.err" &
    fi
    victim=$!
  } 2>/dev/null
  for ((i = 0; i < 1200; i++)); do
    w=$(waiting "$gate") || break
    [ "$w" != - ] && break
    sleep 0.05
  done
  if [ -n "$w" ] && [ "$w" != - ]; then
    IFS='|' read -r pid seen event <<<"$w"
    seen=${seen#migrate-crash:}
  fi
  if [ -z "$pid" ]; then
    fail "$label: the call never reached the gate $gate: $(cat "$W/victim.err")"
    watcher_stop
    kill "$victim" 2>/dev/null
    wait "$victim" 2>/dev/null
    return 1
  fi
  case $how in
    sigkill) kill -KILL "$pid" ;;
    terminate) wq "SELECT pg_terminate_backend($pid)" >/dev/null ;;
    immediate) server_immediate_restart || fail "$label: pg_ctl stop -m immediate / start failed: $(tail -5 "$CLUSTER_DIR/server.log")" ;;
  esac
  { wait "$victim"; rc=$?; } 2>/dev/null
  if [ "$how" = terminate ]; then
    wq ROLLBACK >/dev/null
    wq 'SELECT pg_advisory_unlock_all()' >/dev/null
    # pg_terminate_backend does not wait for the backend to end (and let go of its locks)
    for ((i = 0; i < 600; i++)); do
      [ "$(wq "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")" = 0 ] && break
      sleep 0.05
    done
  fi
  watcher_stop
  echo "# pg: $label: ended ($how) at \"$seen\" (waiting for ${event:--})"
  [ "$rc" -ne 0 ] || fail "$label: the call succeeded although it was ended at $seen"
  wait_ready || { fail "$label: the server did not come back within 60 s"; return 1; }
  case $how in
    terminate) expect_match "$label: the client was told" 'terminating connection due to administrator command' "$(cat "$W/victim.err")" ;;
    *) expect_match "$label: the client lost its connection" 'server closed the connection unexpectedly|terminating connection|connection to server was lost' "$(cat "$W/victim.err")" ;;
  esac

  out=$(corruption "$db")
  expect_eq "$label: amcheck after the kill" "" "$out"
  [ "$(cat "$W/amcheck.n" 2>/dev/null || echo 0)" -gt 0 ] || fail "$label: amcheck checked no index"
  expect_eq "$label: advisory locks left" 0 \
    "$(pg_q_quiet -d "$db" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 2>&1)"
  c=$(counts "$db" 2>&1)
  if [ "$call" = apply ]; then
    fp=$(fingerprint "$db" 2>&1)
    if [ "$fp" == "$PRE_FP" ]; then
      state=before
    elif [ "$fp" == "$FULL_FP" ]; then
      state=after
    else
      state=mixed
      fail "$label: the database is neither as before the call nor as after it; tables and history: $c"$'\n'"$(diff <(printf '%s\n' "$PRE_FP") <(printf '%s\n' "$fp") | head -20)"
    fi
    case $c in
      "$BEFORE $BEFORE" | "$TOTAL $TOTAL") ;;
      *) fail "$label: tables and history rows disagree or are partial: $c" ;;
    esac
    out=$(pg_q_quiet -d "$db" -c "SELECT migrate_apply('$DIR')" 2>&1)
    case $state in
      before) expect_eq "$label: migrate_apply after the kill" "$((TOTAL - BEFORE))" "$out" ;;
      after) expect_eq "$label: migrate_apply after the kill" 0 "$out" ;;
    esac
    fp=$(fingerprint "$db" 2>&1)
    [ "$fp" == "$FULL_FP" ] || fail "$label: the final state differs from a clean run's:"$'\n'"$(diff <(printf '%s\n' "$FULL_FP") <(printf '%s\n' "$fp") | head -20)"
  elif [ "$call" = batches ]; then
    # history ends at the last migration of a committed batch, and the database is exactly
    # what a clean migrate_apply up to there leaves (its newest drift record too; a batched
    # call records one per batch, so their number is not compared)
    local FP_DRIFT_ROWS=0
    history_end_state "$label" "$db" B_FP "$BEFORE" "$TOTAL" "$c" ""
    out=$(pg_q_quiet -d "$db" -c "CALL migrate_apply_batches('$DIR', NULL, $BATCH)" 2>&1) ||
      fail "$label: the CALL after the kill failed: $out"
    fp=$(fingerprint "$db" 2>&1)
    [ "$fp" == "$FULL_FP_B" ] || fail "$label: the final state differs from a clean run's:"$'\n'"$(diff <(printf '%s\n' "$FULL_FP_B") <(printf '%s\n' "$fp") | head -20)"
  elif [ "$call" = check ]; then
    # a rehearsal leaves nothing: no schema, no rows, no history, no drift record (and no
    # advisory lock, above); the same rehearsal again reports what a clean one reports
    fp=$(fingerprint "$db" 2>&1)
    if [ "$fp" == "$PRE_FP" ]; then
      state=before
    else
      state=mixed
      fail "$label: the rehearsal left something behind; tables and history: $c"$'\n'"$(diff <(printf '%s\n' "$PRE_FP") <(printf '%s\n' "$fp") | head -20)"
    fi
    expect_eq "$label: tables and history" "$BEFORE $BEFORE" "$c"
    expect_eq "$label: the rehearsal again" "$CHECK_OUT" "$(check_report "$db" 2>&1)"
    fp=$(fingerprint "$db" 2>&1)
    [ "$fp" == "$PRE_FP" ] || fail "$label: the rehearsal after the kill left something behind:"$'\n'"$(diff <(printf '%s\n' "$PRE_FP") <(printf '%s\n' "$fp") | head -20)"
  elif [ -n "${C_V[$call]:-}" ]; then
    # the call whole or not at all; the same statements again end where a clean run ends
    # (migrate_add_column refuses a column that is there, and changes nothing)
    fp=$(fingerprint "$db" 2>&1)
    if [ "$fp" == "$C_PRE_FP" ]; then
      state=before
    elif [ "$fp" == "${C_FP[$call]}" ]; then
      state=after
    else
      state=mixed
      fail "$label: the database is neither as before the call nor as after it:"$'\n'"$(diff <(printf '%s\n' "$C_PRE_FP") <(printf '%s\n' "$fp") | head -20)"
    fi
    if out=$(pg_q_quiet -d "$db" -c "${C_SQL[$call]}" 2>&1); then
      [ "$call" = addcol ] && [ "$state" = after ] && fail "$label: migrate_add_column added the column twice: $out"
    elif [ "$call" != addcol ] || [ "$state" != after ]; then
      fail "$label: the call after the kill failed: $out"
    else
      expect_match "$label: the column is there" 'column "handle" of relation "t_items" already exists' "$out"
    fi
    fp=$(fingerprint "$db" 2>&1)
    [ "$fp" == "${C_FP[$call]}" ] || fail "$label: the final state differs from a clean run's:"$'\n'"$(diff <(printf '%s\n' "${C_FP[$call]}") <(printf '%s\n' "$fp") | head -20)"
  else
    # history ends at version h: everything but the marked migration's objects is exactly the
    # state a clean piped run has at h
    local h
    h=$(pg_q_quiet -d "$db" -c "SELECT coalesce(max(version), '0000') FROM migrate_history WHERE direction = 'up' AND success" 2>&1)
    fp=$(fingerprint "$db" "$(script_exclude "$h")" 2>&1)
    history_end_state "$label" "$db" S_FP "$S_BEFORE" "$S_TOTAL" "$c" "$(script_exclude "$h")"
    if ! out=$(script_pipe "$db" 2>&1); then
      if [ "$gate" = snapshot ] && [[ $out == *'index public.nt_s_main_n is INVALID'* ]]; then
        # documented: a CREATE INDEX CONCURRENTLY ended part-way leaves an INVALID index, and
        # the next run names it instead of going on; it changed nothing; after the DROP INDEX
        # CONCURRENTLY its hint gives, the run goes on
        INVALID_NAMED=$((INVALID_NAMED + 1))
        [ "$(fingerprint "$db" "$(script_exclude "$h")" 2>&1)" == "$fp" ] || fail "$label: the refused run changed the database"
        expect_match "$label: the hint" 'HINT: +DROP INDEX CONCURRENTLY public.nt_s_main_n' "$out"
        pg_q_quiet -d "$db" -c 'DROP INDEX CONCURRENTLY public.nt_s_main_n' >/dev/null 2>&1 || fail "$label: the hint's DROP INDEX failed"
        out=$(script_pipe "$db" 2>&1) || fail "$label: the piped script after the DROP INDEX failed: $out"
      else
        fail "$label: the piped script after the kill failed: $out"
      fi
    fi
    fp=$(fingerprint "$db" 2>&1)
    [ "$fp" == "$S_FULL_FP" ] || fail "$label: the final state differs from a clean piped run's:"$'\n'"$(diff <(printf '%s\n' "$S_FULL_FP") <(printf '%s\n' "$fp") | head -20)"
  fi
  [ "${REL_CRASH_FULL:-0}" = 1 ] && expect_eq "$label: amcheck after the rerun" "" "$(corruption "$db")"
  KP_STATE=$state
  return 0
}

W="$REL_WORK/crash-pg"
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
DIR="$W/m"
SDIR="$W/s"
gen_migrations "$DIR"
gen_script_migrations "$SDIR"
chmod -R a+rX "$W"

if [ -z "${CLUSTER_DIR:-}" ] || [ ! -f "$CLUSTER_DIR/data/postmaster.opts" ]; then
  echo "not ok - pg crash: setup (CLUSTER_DIR of the running cluster is not known)"
  exit 1
fi

check_begin "pg crash: setup and clean runs"
# the templates: the state before each call
out=$(pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash_tpl" -c "CREATE DATABASE rel_crash_tpl" 2>&1 &&
  pg_q_quiet -d rel_crash_tpl -c 'CREATE EXTENSION migrate' -c 'CREATE EXTENSION amcheck' -c "$(history_gates_sql)" \
    -c "SELECT migrate_apply('$DIR', '$(printf '%04d' $BEFORE)')" 2>&1)
expect_eq "apply: the state before the call" "$BEFORE" "$out"
out=$(pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash_s_tpl" -c "CREATE DATABASE rel_crash_s_tpl" 2>&1 &&
  pg_q_quiet -d rel_crash_s_tpl -c 'CREATE EXTENSION migrate' -c 'CREATE EXTENSION amcheck' -c "$(history_gates_sql)" 2>&1 &&
  { pg_q_quiet -d rel_crash_s_tpl -c "SELECT statement FROM migrate_script('$SDIR', '$(printf '%04d' $S_BEFORE)') ORDER BY seq" |
    pg_q_quiet -d rel_crash_s_tpl >/dev/null; } 2>&1)
expect_eq "script: the state before the call" "" "$out"
expect_eq "script: history before the call" "$S_BEFORE" \
  "$(pg_q_quiet -d rel_crash_s_tpl -c "SELECT count(*) FROM migrate_history" 2>&1)"

DB=rel_crash
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB TEMPLATE rel_crash_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
PRE_FP=$(fingerprint "$DB")
t0=$(now_ms)
out=$(pg_q_quiet -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>&1)
t1=$(now_ms)
RUN_MS=$((t1 - t0))
expect_eq "apply: clean run" "$((TOTAL - BEFORE))" "$out"
FULL_FP=$(fingerprint "$DB")
expect_eq "apply: clean run tables and history" "$TOTAL $TOTAL" "$(counts "$DB" 2>&1)"
expect_eq "apply: clean run amcheck" "" "$(corruption "$DB")"

expect_eq "apply: clean run drift record" "drift record|apply|$(pg_q_quiet -d "$DB" -c "SELECT fingerprint FROM migrate_schema_history ORDER BY id DESC LIMIT 1")|0045" \
  "$(grep '^drift record|' <<<"$FULL_FP")"
expect_eq "apply: clean run, migrate_drift() after it" "drift records|2|0" "$(grep '^drift records|' <<<"$FULL_FP")"

# the rehearsal: what a clean migrate_check reports, and that it leaves the state before
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash WITH (FORCE)" -c "CREATE DATABASE rel_crash TEMPLATE rel_crash_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
CHECK_OUT=$(check_report rel_crash 2>&1)
expect_eq "check: a clean rehearsal, migrations rehearsed ok" "$((TOTAL - BEFORE))" "$(grep -c '^[0-9]*|ok|' <<<"$CHECK_OUT")"
expect_eq "check: a clean rehearsal leaves the state before" "$PRE_FP" "$(fingerprint rel_crash)"

# the batches: the state a clean apply reaches at the end of each batch (a batched call records
# a drift record per batch: their number is not compared)
FP_DRIFT_ROWS=0
declare -A B_FP=()
B_FP[$(printf '%04d' "$BEFORE")]=$(fingerprint rel_crash)
for ((k = BEFORE + BATCH; k <= TOTAL; k += BATCH)); do
  printf -v v '%04d' "$k"
  pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash WITH (FORCE)" -c "CREATE DATABASE rel_crash TEMPLATE rel_crash_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
  out=$(pg_q_quiet -d rel_crash -c "SELECT migrate_apply('$DIR', '$v')" 2>&1)
  expect_eq "batches: clean apply to $v" "$((k - BEFORE))" "$out"
  B_FP[$v]=$(fingerprint rel_crash)
done
FULL_FP_B=${B_FP[$(printf '%04d' "$TOTAL")]}
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash WITH (FORCE)" -c "CREATE DATABASE rel_crash TEMPLATE rel_crash_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
out=$(pg_q_quiet -d rel_crash -c "CALL migrate_apply_batches('$DIR', NULL, $BATCH)" 2>&1)
expect_eq "batches: clean CALL" "" "$out"
expect_eq "batches: a clean CALL leaves what one migrate_apply leaves" "$FULL_FP_B" "$(fingerprint rel_crash)"
FP_DRIFT_ROWS=1

# the columns calls: the state before them, and what a clean call leaves
out=$(pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash_c_tpl" -c "CREATE DATABASE rel_crash_c_tpl" 2>&1 &&
  pg_q_quiet -d rel_crash_c_tpl -c 'CREATE EXTENSION migrate' -c 'CREATE EXTENSION amcheck' -c "$(history_gates_sql)" \
    -c "$(columns_sql)" 2>&1)
expect_eq "columns: the state before the calls" "" "$out"
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash_c WITH (FORCE)" -c "CREATE DATABASE rel_crash_c TEMPLATE rel_crash_c_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
C_PRE_FP=$(fingerprint rel_crash_c)
declare -A C_FP=()
for call in notnull addcol merge; do
  pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash_c WITH (FORCE)" -c "CREATE DATABASE rel_crash_c TEMPLATE rel_crash_c_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
  out=$(PGOPTIONS="-c rel.call=${C_V[$call]}" pg_q_quiet -d rel_crash_c -c "${C_SQL[$call]}" 2>&1) ||
    fail "$call: clean call: $out"
  C_FP[$call]=$(fingerprint rel_crash_c)
  [ "${C_FP[$call]}" != "$C_PRE_FP" ] || fail "$call: the clean call changed nothing"
  expect_eq "$call: clean call amcheck" "" "$(corruption rel_crash_c)"
  case $call in
    notnull) what="SELECT attnotnull || ' ' || (SELECT count(*) FROM t_items WHERE email LIKE 'filled %')
                     FROM pg_attribute WHERE attrelid = 't_items'::regclass AND attname = 'email'"
      expected='true 1666' ;;
    addcol) what="SELECT attnotnull || ' ' || (SELECT count(*) FROM t_items WHERE handle LIKE 'filled %')
                    FROM pg_attribute WHERE attrelid = 't_items'::regclass AND attname = 'handle'"
      expected='true 5000' ;;
    merge) what="SELECT (SELECT count(*) FROM t_users) || ' ' || (SELECT count(*) FROM t_users_duplicates)
                   || ' ' || (SELECT count(*) FROM t_posts WHERE user_id > 1500)
                   || ' ' || (SELECT count(*) FROM migrate_schema_history)"
      expected='1500 500 0 1' ;;
  esac
  expect_eq "$call: the clean call's work ($out)" "$expected" "$(pg_q_quiet -d rel_crash_c -c "$what" 2>&1)"
done

# the script: the state a clean piped run reaches at each version (one target each)
declare -A S_FP=()
for ((k = S_BEFORE; k <= S_TOTAL; k++)); do
  printf -v v '%04d' "$k"
  pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash_s WITH (FORCE)" -c "CREATE DATABASE rel_crash_s TEMPLATE rel_crash_s_tpl STRATEGY FILE_COPY" >/dev/null 2>&1
  if ! out=$({ pg_q_quiet -d rel_crash_s -c "SELECT statement FROM migrate_script('$SDIR', '$v') ORDER BY seq" |
    psql -X -q -At -v ON_ERROR_STOP=1 -d rel_crash_s >/dev/null; } 2>&1); then
    fail "script: clean piped run to $v: $out"
  fi
  S_FP[$v]=$(fingerprint rel_crash_s "$(script_exclude "$v")")
done
S_FULL_FP=$(fingerprint rel_crash_s)
expect_eq "script: clean run tables and history" "$((S_TOTAL - 2)) $S_TOTAL" "$(counts rel_crash_s 2>&1)"
expect_eq "script: clean run amcheck" "" "$(corruption rel_crash_s)"
expect_eq "script: the marked migration's index" "t" \
  "$(pg_q_quiet -d rel_crash_s -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'nt_s_main_n'::regclass" 2>&1)"
check_end || exit 1
echo "# pg: clean apply of $((TOTAL - BEFORE)) migrations $RUN_MS ms"
stat pg_crash_migrations "$((TOTAL - BEFORE))"
stat pg_crash_script_migrations "$((S_TOTAL - S_BEFORE))"
stat pg_crash_batch_size "$BATCH"

# The points: "CALL|GATE|NAME". A gate lock:P stops the call at key P = version*10 + slot.
lk() { echo "lock:$((10#$1 * 10 + $2))"; }
# ddl V N start|end: the Nth ALTER TABLE of the columns call V, as it starts or ends
ddl() {
  local at=0
  [ "$3" = start ] && at=1
  echo "lock:$((100000 + 10#$1 * 100 + 2 * $2 - at))"
}
points=(
  "apply|$(lk 0006 1)|apply: start of 0006, the first migration of the call"
  "apply|$(lk 0018 1)|apply: between 0017 and 0018 (0017 recorded, 0018 starting)"
  "apply|$(lk 0013 2)|apply: middle of 0013 (5000 rows inserted, index not yet built)"
  "apply|$(lk 0029 2)|apply: middle of 0029 (view created, trigger not yet)"
  "apply|$(lk 0033 3)|apply: end of 0033's script, before its history row"
  "apply|$(lk 0006 4)|apply: history INSERT of 0006"
  "apply|$(lk 0045 4)|apply: history INSERT of 0045, the last"
  "apply|$(lk 0006 5)|apply: COMMIT, deferred trigger queued by 0006 (the first)"
  "apply|$(lk 0045 5)|apply: COMMIT, deferred trigger queued by 0045 (the last)"
  "apply|$(lk 0045 6)|apply: COMMIT, deferred trigger created by migration 0045"
  "batches|$(lk 0015 5)|batches: COMMIT of batch 1 (deferred trigger queued by 0015, its last)"
  "batches|$(lk 0016 1)|batches: start of 0016, the first of batch 2 (batch 1 committed)"
  "batches|$(lk 0030 4)|batches: history INSERT of 0030, in batch 3"
  "apply|$(lk 0045 7)|apply: drift record INSERT (migrate_schema_history, after 0045's history row)"
  "check|$(lk 0013 2)|check: middle of 0013, the rehearsal's eighth migration (each in its savepoint)"
  "check|$(lk 0045 3)|check: end of 0045's script, the last, before the rehearsal rolls back"
  "notnull|$(lk 0101 2)|set_not_null: the fill UPDATE, at row 2499 of 5000"
  "notnull|$(ddl 0101 2 start)|set_not_null: VALIDATE CONSTRAINT starting (CHECK added NOT VALID)"
  "notnull|$(lk 0101 5)|set_not_null: COMMIT (deferred trigger queued before the call)"
  "addcol|$(lk 0102 2)|add_column: the fill UPDATE, at row 2499 of 5000 (column added)"
  "merge|lock:1032|add_unique merge: re-pointing t_posts (UPDATE of post 3600)"
  "script|$(lk 0004 2)|script: middle of 0004, a transactional migration"
  "script|$(lk 0005 4)|script: history INSERT of 0005 (migrate_record)"
  "script|$(lk 0006 5)|script: COMMIT of 0006 (deferred trigger it queued)"
  "script|$(lk 0008 2)|script: marked 0008, between DROP INDEX CONCURRENTLY and CREATE INDEX CONCURRENTLY"
  "script|snapshot|script: marked 0008, inside CREATE INDEX CONCURRENTLY (waiting for an old snapshot)"
  "script|$(lk 0008 3)|script: marked 0008, after its statements, before migrate_record"
  "script|$(lk 0008 4)|script: history INSERT of the marked 0008 (migrate_record)"
  "script|$(lk 0009 1)|script: start of 0009, after the marked 0008 was recorded"
)
if [ "${REL_CRASH_FULL:-0}" = 1 ]; then
  for k in 10 15 20 25 30 35 40 45; do
    printf -v v '%04d' "$k"
    points+=("apply|$(lk "$v" 1)|apply: start of $v")
  done
  for k in 12 24 39; do
    printf -v v '%04d' "$k"
    points+=("apply|$(lk "$v" 4)|apply: history INSERT of $v" "apply|$(lk "$v" 5)|apply: COMMIT, deferred trigger queued by $v")
  done
  points+=("check|$(lk 0030 1)|check: start of 0030, after 24 rehearsed migrations"
    "batches|$(lk 0025 7)|batches: drift record INSERT of batch 2"
    "notnull|$(ddl 0101 2 end)|set_not_null: VALIDATE CONSTRAINT done (SET NOT NULL next)"
    "notnull|$(ddl 0101 3 start)|set_not_null: SET NOT NULL starting (CHECK validated)"
    "notnull|$(ddl 0101 4 end)|set_not_null: DROP CONSTRAINT done, the last ALTER TABLE"
    "addcol|$(ddl 0102 1 end)|add_column: ADD COLUMN done, before the fill"
    "addcol|$(ddl 0102 3 start)|add_column: VALIDATE CONSTRAINT starting"
    "addcol|$(lk 0102 5)|add_column: COMMIT (deferred trigger queued before the call)"
    "merge|lock:1033|add_unique merge: moving a duplicate aside (DELETE of user 1800)"
    "merge|lock:7|add_unique merge: drift record INSERT (migrate_schema_history)"
    "merge|$(lk 0103 5)|add_unique merge: COMMIT (deferred trigger queued before the call)")
  points+=("script|$(lk 0003 1)|script: start of 0003, the first of the pipe"
    "script|$(lk 0012 5)|script: COMMIT of 0012, the last"
    "script|$(lk 0008 1)|script: marked 0008, before DROP INDEX CONCURRENTLY")
fi

declare -A T=() N=() ST=()
INVALID_NAMED=0
NAMES_FILE="$W/names"
: >"$NAMES_FILE"
for how in sigkill terminate immediate; do
  for p in "${points[@]}"; do
    IFS='|' read -r call gate name <<<"$p"
    label="$how: $name"
    [[ $label =~ ${REL_CRASH_ONLY:-} ]] || continue # a subset (a regex), when debugging
    tp=$(now_ms)
    check_begin "pg crash: $label"
    KP_STATE=none
    kill_point "$call" "$label" "$how" "$gate"
    check_end && good=1 || good=0
    T[$call:$how]=$((${T[$call:$how]:-0} + 1))
    N[$call:$how]=$((${N[$call:$how]:-0} + good))
    ST[$call:$how:$KP_STATE]=$((${ST[$call:$how:$KP_STATE]:-0} + 1))
    echo "$name" >>"$NAMES_FILE"
    echo "# pg: ($(($(now_ms) - tp)) ms)"
  done
done
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS rel_crash WITH (FORCE)" -c "DROP DATABASE IF EXISTS rel_crash_s WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS rel_crash_c WITH (FORCE)" -c "DROP DATABASE IF EXISTS rel_crash_tpl" \
  -c "DROP DATABASE IF EXISTS rel_crash_s_tpl" -c "DROP DATABASE IF EXISTS rel_crash_c_tpl" >/dev/null 2>&1
total=0
for how in sigkill terminate immediate; do
  for call in apply batches script check notnull addcol merge; do
    total=$((total + ${T[$call:$how]:-0}))
    stat "pg_crash_${call}_${how}_points" "${T[$call:$how]:-0}"
    stat "pg_crash_${call}_${how}_survived" "${N[$call:$how]:-0}"
    stat "pg_crash_${call}_${how}_before" "${ST[$call:$how:before]:-0}"
    stat "pg_crash_${call}_${how}_between" "${ST[$call:$how:between]:-0}"
    stat "pg_crash_${call}_${how}_after" "${ST[$call:$how:after]:-0}"
  done
done
stat pg_crash_points "$total"
stat pg_crash_named_points "$(sort -u "$NAMES_FILE" | wc -l)"
awk '!seen[$0]++' "$NAMES_FILE" | while IFS= read -r name; do stat pg_crash_place "$name"; done
stat pg_crash_invalid_index_named "$INVALID_NAMED"
stat pg_crash_mode "$([ "${REL_CRASH_FULL:-0}" = 1 ] && echo full || echo fast)"
echo "# pg: $total kill points ($(sort -u "$NAMES_FILE" | wc -l) places × 3 ways of dying)"
