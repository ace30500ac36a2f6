#!/usr/bin/env bash
# Crashes on PostgreSQL: one migrate_apply of 40 migrations (some slow: generate_series inserts,
# indexes, pg_sleep) is ended mid-call, at seeded points:
#   - SIGKILL to its backend: the postmaster ends every backend and runs crash recovery; we wait
#     for it with pg_isready;
#   - pg_terminate_backend() from another session.
# Every migration first sets application_name to migrate-crash:<version>, and the last one adds a
# deferred constraint trigger that runs (and sleeps) while the transaction commits, shown as
# migrate-crash:commit, so a watcher session can end the call inside a chosen migration or during
# the commit; a few more kills come after seeded delays.
#
# After each: amcheck finds no corruption (bt_index_check, verify_heapam); the database is exactly
# as before the call or exactly as after it (tables t_* and history rows agree: 5 and 5, or 45
# and 45); a fresh migrate_apply finishes the job, and the result equals a clean run's.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

CRASH_ROWS=${CRASH_ROWS:-5000}
TOTAL=45
BEFORE=5

gen_migrations() {
  local dir=$1 k v t body
  mkdir -p "$dir"
  for ((k = 1; k <= TOTAL; k++)); do
    printf -v v '%04d' "$k"
    t="t_$v"
    body="SELECT set_config('application_name', 'migrate-crash:$v', false);
CREATE TABLE $t (id serial PRIMARY KEY, n integer NOT NULL, s text);"
    case $((k % 10)) in
      3) body+="
INSERT INTO $t (n, s) SELECT x, 'row ' || x FROM generate_series(1, $CRASH_ROWS) x;
CREATE INDEX ${t}_n ON $t (n);
SELECT pg_sleep(0.1);" ;;
      9) body+="
INSERT INTO $t (n, s) VALUES ($k, 'a'), ($k + 1, 'b;c'), ($k + 2, \$\$-- not a comment\$\$);
ALTER TABLE $t ADD COLUMN extra text DEFAULT 'x';
CREATE VIEW v_$v AS SELECT n, s FROM $t WHERE n > 0;
CREATE FUNCTION f_$v() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  NEW.extra := 'y';
  RETURN NEW;
END
\$\$;
CREATE TRIGGER tr_$v BEFORE INSERT ON $t FOR EACH ROW EXECUTE FUNCTION f_$v();
INSERT INTO $t (n, s) VALUES (0, 'after trigger');" ;;
      *) body+="
INSERT INTO $t (n, s) VALUES ($k, 'migration $k');" ;;
    esac
    if [ "$k" -eq "$TOTAL" ]; then
      body+="
CREATE FUNCTION at_commit_$v() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM set_config('application_name', 'migrate-crash:commit', false);
  PERFORM pg_sleep(0.1);
  RETURN NULL;
END
\$\$;
CREATE CONSTRAINT TRIGGER at_commit_$v AFTER INSERT ON $t
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION at_commit_$v();
INSERT INTO $t (n, s) VALUES (-1, 'its trigger runs while the transaction commits');"
    fi
    write_migration "$dir" "$k" "${v}_create_$t" "$body" "DROP TABLE $t;"
  done
}

# fingerprint DB: the schema public (relations, columns, indexes, constraints, triggers, views,
# functions), row count and sums of every t_* table, the history without times and ids.
fingerprint() {
  local db=$1
  pg_q_quiet -d "$db" -c "
    SELECT c.relname, c.relkind, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
           a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
      FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 3;
    SELECT pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1;
    SELECT conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2;
    SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal ORDER BY 1;
    SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1;
    SELECT p.oid::regprocedure, md5(pg_get_functiondef(p.oid)) FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1;" || return 1
  pg_q_quiet -d "$db" <<SQL
SELECT string_agg(format('SELECT %L, count(*), sum(n), sum(length(s)) FROM %I', relname, relname),
                  ' UNION ALL ' ORDER BY relname) || ' ORDER BY 1'
  FROM pg_class WHERE relkind = 'r' AND relname ~ '^t_[0-9]+\$' AND relnamespace = 'public'::regnamespace
\\gexec
SELECT version, name, direction, checksum, down_checksum, script, success FROM migrate_history ORDER BY id;
SQL
}

# Put the database back as it was before the call, by hand: what migrations 6.. created goes,
# and their history rows.
reset_db() {
  pg_q_quiet -d "$1" -c "
    DO \$\$
    DECLARE r record;
    BEGIN
      FOR r IN SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
                  AND relname ~ '^t_[0-9]+\$' AND substr(relname, 3)::int > $BEFORE LOOP
        EXECUTE format('DROP TABLE %I CASCADE', r.relname);
      END LOOP;
      FOR r IN SELECT oid::regprocedure AS f FROM pg_proc WHERE pronamespace = 'public'::regnamespace
                  AND proname ~ '^(f|at_commit)_[0-9]+\$' AND substring(proname FROM '[0-9]+\$')::int > $BEFORE LOOP
        EXECUTE format('DROP FUNCTION %s', r.f);
      END LOOP;
      DELETE FROM migrate_history WHERE version::int > $BEFORE;
    END
    \$\$"
}

counts() {
  pg_q_quiet -d "$1" -c "SELECT (SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^t_[0-9]+\$' AND relnamespace = 'public'::regnamespace)
                        || ' ' || (SELECT count(*) FROM migrate_history WHERE direction = 'up' AND success)"
}

# amcheck over every btree index and every heap of the database (catalogs included); prints the
# problems, nothing when all is well.
corruption() {
  pg_q_quiet -d "$1" -c "
    SELECT count(bt_index_check(c.oid, true))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
     WHERE a.amname = 'btree' AND i.indisvalid AND c.relpersistence <> 't'" -c "
    SELECT c.relname || ' block ' || v.blkno || ': ' || v.msg
      FROM pg_class c, LATERAL verify_heapam(c.oid) v
     WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence <> 't'" 2>&1 | grep -v '^[0-9]*$'
}

# Wait (bounded) until the server accepts connections again after crash recovery.
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

# The watcher: wait until a backend's application_name reaches a stage (migrate-crash:0017 or
# later, or migrate-crash:commit; a call starts at migrate-crash:0000), end it with
# pg_terminate_backend when asked, and return "pid stage wait_event" as seen then.
install_watcher() {
  pg_q_quiet -d postgres <<'SQL'
CREATE OR REPLACE FUNCTION rel_wait_stage(stage text, timeout_ms integer, terminate boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  a record;
  t0 timestamptz := clock_timestamp();
BEGIN
  LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid, application_name, wait_event INTO a FROM pg_stat_activity
     WHERE application_name LIKE 'migrate-crash:%' AND application_name >= 'migrate-crash:' || stage
     LIMIT 1;
    IF a.pid IS NOT NULL THEN
      IF terminate THEN
        PERFORM pg_terminate_backend(a.pid);
      END IF;
      RETURN a.pid || ' ' || substr(a.application_name, 15) || ' ' || coalesce(a.wait_event, '-');
    END IF;
    IF clock_timestamp() - t0 > timeout_ms * interval '1 ms' THEN
      RETURN NULL;
    END IF;
    PERFORM pg_sleep(0.001);
  END LOOP;
END
$$;
SQL
}

# kill_point LABEL HOW STAGE|ext:MS, HOW = sigkill or terminate
kill_point() {
  local label=$1 how=$2 where=$3 db=$DB pid='' seen='' event='' victim rc out fp state c
  {
    PGAPPNAME=migrate-crash:0000 psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
      -c "SELECT migrate_apply('$DIR')" >"$W/victim.out" 2>"$W/victim.err" &
    victim=$!
  } 2>/dev/null
  if [[ $where == ext:* ]]; then
    sleep "$(printf '%d.%03d' $((${where#ext:} / 1000)) $((${where#ext:} % 1000)))"
    read -r pid seen event < <(pg_q_quiet -d postgres -c "SELECT pid || ' ' || substr(application_name, 15) || ' ' || coalesce(wait_event, '-')
                                                 FROM pg_stat_activity WHERE application_name LIKE 'migrate-crash:%' LIMIT 1")
    if [ -n "$pid" ] && [ "$how" = terminate ]; then
      pg_q_quiet -d postgres -c "SELECT pg_terminate_backend($pid)" >/dev/null
    fi
  else
    read -r pid seen event < <(pg_q_quiet -d postgres -c "SELECT rel_wait_stage('$where', 20000, $([ "$how" = terminate ] && echo true || echo false))")
  fi
  if [ -n "$pid" ] && [ "$how" = sigkill ]; then
    kill -KILL "$pid" 2>/dev/null
  fi
  { wait "$victim"; rc=$?; } 2>/dev/null
  [ -n "$pid" ] && echo "# pg: $label: the call was at stage ${seen:-?} (waiting for ${event:--})"
  local late=0
  if [ -z "$pid" ] || [ "$rc" -eq 0 ]; then
    late=1 # the call ended before the kill: still checked
    [[ $where == ext:* ]] || fail "$label: the call was never seen at stage $where (exit status $rc): $(cat "$W/victim.err")"
  fi
  if [ "$how" = sigkill ] && [ "$late" -eq 0 ]; then
    wait_ready || { fail "$label: the server did not come back within 60 s"; return 1; }
    expect_match "$label: the client lost its connection" 'server closed the connection unexpectedly|terminating connection' "$(cat "$W/victim.err")"
  elif [ "$late" -eq 0 ]; then
    expect_match "$label: the client was told" 'terminating connection due to administrator command' "$(cat "$W/victim.err")"
  fi

  out=$(corruption "$db")
  expect_eq "$label: amcheck after the kill" "" "$out"
  fp=$(fingerprint "$db" 2>&1)
  if [ "$fp" == "$PRE_FP" ]; then
    state=before
  elif [ "$fp" == "$FULL_FP" ]; then
    state=after
  else
    state=mixed
    fail "$label: the database is neither as before the call nor as after it; tables and history: $(counts "$db" 2>&1)"$'\n'"$(diff <(printf '%s\n' "$PRE_FP") <(printf '%s\n' "$fp") | head -20)"
  fi
  c=$(counts "$db" 2>&1)
  case $c in
    "$BEFORE $BEFORE" | "$TOTAL $TOTAL") ;;
    *) fail "$label: tables and history rows disagree or are partial: $c" ;;
  esac
  expect_eq "$label: migrate advisory locks left" 0 \
    "$(pg_q_quiet -d "$db" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 2>&1)"
  out=$(pg_q_quiet -d "$db" -c "SELECT migrate_apply('$DIR')" 2>&1)
  case $state in
    before) expect_eq "$label: migrate_apply after the kill" "$((TOTAL - BEFORE))" "$out" ;;
    after) expect_eq "$label: migrate_apply after the kill" 0 "$out" ;;
  esac
  fp=$(fingerprint "$db" 2>&1)
  [ "$fp" == "$FULL_FP" ] || fail "$label: the final state differs from a clean run's:"$'\n'"$(diff <(printf '%s\n' "$FULL_FP") <(printf '%s\n' "$fp") | head -20)"
  # back to the state before the call, for the next point
  out=$(reset_db "$db" 2>&1)
  fp=$(fingerprint "$db" 2>&1)
  [ "$fp" == "$PRE_FP" ] || fail "$label: could not put the database back as before the call: $out"
  KP_LATE=$late
  if [ "$late" -eq 0 ]; then
    KILLED_IN_STATE[$state]=$((${KILLED_IN_STATE[$state]:-0} + 1))
    KILLED_IN_STATE[$how:$state]=$((${KILLED_IN_STATE[$how:$state]:-0} + 1))
  fi
  [ "$late" -eq 0 ] || LATE=$((LATE + 1))
  return 0
}

W="$REL_WORK/crash-pg"
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
DIR="$W/m"
gen_migrations "$DIR"
chmod -R a+rX "$W"

check_begin "pg crash: setup and clean run"
DB=rel_crash
install_watcher >/dev/null || fail "could not install the watcher function"
out=$(pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>&1 &&
  pg_q_quiet -d "$DB" -c 'CREATE EXTENSION migrate' -c 'CREATE EXTENSION amcheck' \
    -c "SELECT migrate_apply('$DIR', '$BEFORE')" 2>&1)
expect_eq "the state before the call" "$BEFORE" "$out"
PRE_FP=$(fingerprint "$DB")
t0=$(now_ms)
out=$(pg_q_quiet -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>&1)
t1=$(now_ms)
RUN_MS=$((t1 - t0))
expect_eq "clean run" "$((TOTAL - BEFORE))" "$out"
FULL_FP=$(fingerprint "$DB")
expect_eq "clean run tables and history" "$TOTAL $TOTAL" "$(counts "$DB" 2>&1)"
expect_eq "clean run amcheck" "" "$(corruption "$DB")"
out=$(reset_db "$DB" 2>&1)
[ "$(fingerprint "$DB" 2>&1)" == "$PRE_FP" ] || fail "could not put the database back as before the call: $out"
check_end || exit 1
echo "# pg: clean run $RUN_MS ms"
stat pg_crash_migrations "$((TOTAL - BEFORE))"

points=() labels=()
# inside slow migrations (pg_sleep, inserts), right as fast ones start (near the boundary between
# two migrations), and during the commit, each with both ways of ending a backend
for how in sigkill terminate; do
  for stage in 0013 0033 $([ "$how" = sigkill ] && echo 0043); do
    points+=("$how $stage") labels+=("$how inside slow migration $stage")
  done
  for k in $(strata 6 $((TOTAL - 1)) 2 "pg:$how"); do
    printf -v stage '%04d' "$k"
    points+=("$how $stage") labels+=("$how as migration $stage starts")
  done
  points+=("$how commit") labels+=("$how while the transaction commits")
  for ms in $(strata 50 $((RUN_MS / 2)) 1 "pg:ext:$how"); do
    points+=("$how ext:$ms") labels+=("$how after $ms ms")
  done
done

declare -A KILLED_IN_STATE=()
LATE=0
for k in "${!points[@]}"; do
  read -r how where <<<"${points[k]}"
  check_begin "pg crash: ${labels[k]}"
  KP_LATE=0
  kill_point "${labels[k]}" "$how" "$where"
  # shellcheck disable=SC2034 # used through eval
  check_end && good=1 || good=0
  # a kill that came after the end was checked, but is no kill point
  if [ "$KP_LATE" = 0 ]; then
    eval "t_$how=\$((\${t_$how:-0} + 1))"
    eval "n_$how=\$((\${n_$how:-0} + good))"
  fi
done
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $DB" \
  -c "DROP FUNCTION IF EXISTS rel_wait_stage(text, integer, boolean)" >/dev/null 2>&1
echo "# pg: $(( ${#points[@]} - LATE )) kill points: ${KILLED_IN_STATE[before]:-0} left the database as before the call, ${KILLED_IN_STATE[after]:-0} as after it, ${KILLED_IN_STATE[mixed]:-0} mixed; $LATE came after the end (checked, not counted)"
# shellcheck disable=SC2154 # set through eval
stat pg_crash_sigkill_points "${t_sigkill:-0}"
stat pg_crash_sigkill_survived "${n_sigkill:-0}"
stat pg_crash_terminate_points "${t_terminate:-0}"
stat pg_crash_terminate_survived "${n_terminate:-0}"
for how in sigkill terminate; do
  stat "pg_crash_${how}_before" "${KILLED_IN_STATE[$how:before]:-0}"
  stat "pg_crash_${how}_after" "${KILLED_IN_STATE[$how:after]:-0}"
done
