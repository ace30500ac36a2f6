#!/usr/bin/env bash
# Shared helpers of the PostgreSQL scenario scripts. A scenario sources this file, calls
# scenario_begin <name>, records problems with fail/expect_* (tests/lib/assert.sh), runs psql
# with pg_q (tests/pg/cluster.sh), and ends with scenario_end, which prints "ok - <name>" or
# "not ok - <name>" followed by "#"-prefixed details.
#
# The scenarios run against the cluster the PG* variables name. When PGHOST is unset (a
# standalone run), scenario_begin starts a throwaway cluster with tests/pg/cluster.sh and the
# EXIT trap stops it. Everything a scenario creates (databases, temp folders, background psql
# processes) is removed by the EXIT trap, also when the scenario fails half-way.

SCENARIOS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCENARIOS_DIR/../../.." && pwd)
# shellcheck source=../cluster.sh
source "$REPO_DIR/tests/pg/cluster.sh"

# The advisory lock key migrate_apply takes (MIG_PG_LOCK_KEY in pg_ext/pg_engine.h).
# shellcheck disable=SC2034 # used by the scenarios
MIGRATE_LOCK_KEY=30796665482998885

# shellcheck source=../../lib/assert.sh
source "$REPO_DIR/tests/lib/assert.sh"

SCENARIO=
WORK=
OWN_CLUSTER=0
REPORTED=0
CREATED_DBS=()
BG_PIDS=()
CLEANUP_HOOKS=()

scenario_begin() {
  SCENARIO=$1
  check_begin "$SCENARIO"
  local need_cluster=${2:-cluster}
  trap scenario_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  WORK=$(mktemp -d /tmp/migrate-scenario.XXXXXX)
  chmod 755 "$WORK"
  if [ "$need_cluster" = cluster ] && [ -z "${PGHOST:-}" ]; then
    # shellcheck disable=SC2119 # no extra settings
    if ! cluster_start >"$WORK/cluster.log" 2>&1; then
      fail "could not start a throwaway cluster: $(cat "$WORK/cluster.log")"
      scenario_end
    fi
    OWN_CLUSTER=1
  fi
}

# Print the result line (and details) and exit: 0 when nothing failed.
scenario_end() {
  REPORTED=1
  CHECK_MAX_FAILS=0 CHECK_MAX_CHARS=0 check_end
  exit
}

scenario_cleanup() {
  local rc=$?
  local pid db i
  trap '' INT TERM # finish cleaning up (run_all.sh's timeout still ends with SIGKILL)
  if [ "$REPORTED" -eq 0 ]; then
    # shellcheck disable=SC2034 # the name check_end prints
    CHECK_NAME="$SCENARIO (aborted, exit status $rc)"
    fail "the scenario stopped before scenario_end"
    CHECK_MAX_FAILS=0 CHECK_MAX_CHARS=0 check_end
    rc=1
  fi
  for pid in "${BG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  for ((i = ${#CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${CLEANUP_HOOKS[i]}" >/dev/null 2>&1
  done
  for db in "${CREATED_DBS[@]}"; do
    dropdb --if-exists --force "$db" >/dev/null 2>&1
  done
  [ "$OWN_CLUSTER" -eq 1 ] && cluster_stop
  [ -n "$WORK" ] && rm -rf "$WORK"
  exit "$rc"
}

# new_db <variable> [--no-extension]: a fresh database with a unique name (dropped at exit),
# with CREATE EXTENSION migrate unless --no-extension.
new_db() {
  local name="mig_${SCENARIO//[^a-zA-Z0-9]/_}_$$_${RANDOM}${#CREATED_DBS[@]}"
  name=${name,,}
  CREATED_DBS+=("$name") # first: a scenario stopped during createdb still drops it
  createdb "$name" || return 1
  if [ "${2:-}" != --no-extension ]; then
    pg_q -d "$name" -c 'CREATE EXTENSION migrate' || return 1
  fi
  printf -v "$1" '%s' "$name"
}

# new_dir <name>: a folder under $WORK; publish makes $WORK readable by the server's OS user.
new_dir() {
  mkdir -p "$WORK/$1" && printf '%s\n' "$WORK/$1"
}

publish() {
  chmod -R a+rX "$WORK"
}

# wait_until <seconds> <command...>: run the command every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
  local tries=$(($1 * 10))
  shift
  while [ "$tries" -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}

# bg <variable> <command...>: start a command in the background, remember its pid (killed at
# exit if still running) in the variable.
bg() {
  local var=$1
  shift
  "$@" &
  BG_PIDS+=("$!")
  printf -v "$var" '%s' "$!"
}

# wait_bg <variable> <pid> <seconds>: wait for a background command (bounded) and put its exit
# status in the variable, or "timeout" when it still runs. (Not in $(...): a subshell cannot
# wait for its parent's children.)
wait_bg() {
  local var=$1 pid=$2 tries=$(($3 * 10)) status
  while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
    sleep 0.1
    tries=$((tries - 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    status=timeout
  else
    wait "$pid"
    status=$?
  fi
  printf -v "$var" '%s' "$status"
}
