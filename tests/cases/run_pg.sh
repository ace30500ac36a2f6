#!/usr/bin/env bash
# The shared cases (tests/cases/*.sh: each behaviour written once, run on both engines) on
# PostgreSQL. The SQLite suite (tests/sqlite/run.sh) runs the same cases on SQLite.
#
#   tests/cases/run_pg.sh [PATTERN...]
#
# Runs against the cluster the PG* variables name (tests/pg/run.sh runs it with its cluster up,
# the extension installed); when PGHOST is unset it starts a throwaway cluster
# (tests/pg/cluster.sh) and stops it at exit. Each case gets a fresh folder the server can read
# and a fresh database with CREATE EXTENSION migrate, both removed afterwards. PATTERN (a bash
# glob, matched anywhere in the name) runs only the cases it matches.
#
# Output: "ok - name" or "not ok - name" (followed by what differed) per case, then the line
# "N passed, N failed"; the exit code is non-zero when any case failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(cd "$HERE/.." && pwd)
# shellcheck source=../lib/assert.sh
. "$TESTS/lib/assert.sh"
# shellcheck source=../lib/files.sh
. "$TESTS/lib/files.sh"
# shellcheck source=../pg/cluster.sh
. "$TESTS/pg/cluster.sh"
# shellcheck source=engine_pg.sh
. "$HERE/engine_pg.sh"
# shellcheck source=common.sh
. "$HERE/common.sh"

if [ -z "${PGHOST:-}" ]; then
  trap cluster_stop EXIT
  # shellcheck disable=SC2119 # no extra settings
  cluster_start >/dev/null || { echo "not ok - cluster (could not start one)"; exit 1; }
fi
# history's applied_by: the role the cases connect as
# shellcheck disable=SC2034 # read by the cases
ME=$(pg_q -c 'SELECT current_user')

cases=()
for file in "$HERE"/[a-z]*.sh; do
  case $(basename "$file") in engine_*.sh | common.sh | run_*.sh) continue ;; esac
  # shellcheck disable=SC1090
  . "$file"
  while IFS= read -r name; do
    cases+=("$name")
  done < <(sed -n 's/^\(case_[A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{.*/\1/p' "$file")
done

dir=
trap 'rm -rf "${dir:?}" "$dir.log"; exit 130' INT TERM
for name in "${cases[@]}"; do
  check_selected "$name" "$@" || continue
  dir=$(mktemp -d /tmp/migrate-case.XXXXXX)
  chmod 755 "$dir" # the server reads the migrations folders
  CASE_DB="mig_${name,,}_$$"
  # the case runs in its own process, folder and database; its failures come back as its output
  (
    cd "$dir" || exit 1
    check_begin "$name"
    if ! createdb "$CASE_DB" || ! pg_q -d "$CASE_DB" -c 'CREATE EXTENSION migrate'; then
      echo "could not create the database $CASE_DB"
      exit 1
    fi
    "$name"
    check_failures
    ! check_failed
  ) >"$dir.log" 2>&1
  status=$?
  dropdb --if-exists --force "$CASE_DB" >/dev/null 2>&1
  check_begin "${name#case_}"
  [ "$status" -eq 0 ] || fail "$(cat "$dir.log")"
  CHECK_MAX_FAILS=0 CHECK_MAX_CHARS=0 check_end
  rm -rf "$dir" "$dir.log"
done

checks_summary
