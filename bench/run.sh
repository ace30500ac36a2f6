#!/usr/bin/env bash
# Apply benchmark: migrate against the floor (the same SQL piped into sqlite3 / psql) and other
# migration tools (dbmate, sqitch, postgrator, node-pg-migrate), on SQLite and PostgreSQL.
# Prints figures and ratios, never pass/fail. Writes bench/results/results.md, results.csv and
# the charts apply.png, apply-sqlite.png, apply-postgresql.png.
#
#   bench/run.sh            N = 100, 1,000, 5,000 (runs: 10, 5, 2); sqitch up to N = 1,000
#   bench/run.sh --quick    N = 100 and 1,000, 3 runs each
#
# Environment: BENCH_NS ("100 1000"), BENCH_RUNS (runs for every N), BENCH_SLOW_MAX_N (largest N
# for sqitch, which runs one client process per migration), BENCH_ENGINES ("sqlite postgresql";
# "sqlite" skips PostgreSQL, which installs the extension into the server), BENCH_OUT (bench/results),
# BENCH_KEEP=1 keeps the scratch folder. Missing tools are installed (apt-get, and npm into the
# scratch folder); a tool that cannot be installed or run is reported as such in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ "$QUICK" = 1 ]; then
  NS=${BENCH_NS:-"100 1000"}
  SLOW_MAX_N=${BENCH_SLOW_MAX_N:-1000}
else
  NS=${BENCH_NS:-"100 1000 5000"}
  SLOW_MAX_N=${BENCH_SLOW_MAX_N:-1000}
fi
runs_for() { # N -> number of timed runs
  if [ -n "${BENCH_RUNS:-}" ]; then echo "$BENCH_RUNS"; return; fi
  if [ "$QUICK" = 1 ]; then echo 3; return; fi
  # identical runs of the same CPU-bound work spread by +-20% on a shared VM: more runs where
  # they are cheap
  if [ "$1" -le 100 ]; then echo 10; elif [ "$1" -le 1000 ]; then echo 5; else echo 2; fi
}
slow_runs_for() { # sqitch: one client process per migration, so 3 runs, and 1 from N = 1,000 on
  if [ "$1" -ge 1000 ]; then echo 1; else echo 3; fi
}
MAX_N=$(printf '%s\n' $NS | sort -n | tail -1)
OUT=${BENCH_OUT:-$ROOT/bench/results}
mkdir -p "$OUT"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools --------------------------------------------------------------------------------
sudo=()
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=(sudo)
apt_updated=0
apt_install() { # packages...: install the missing ones; never fails the benchmark
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    log "could not install ${missing[*]}"
}
scripts/install-deps.sh
apt_install hyperfine gnuplot-nox time sqitch libdbd-sqlite3-perl libdbd-pg-perl python3
command -v npm >/dev/null || apt_install npm
command -v hyperfine >/dev/null || { echo "hyperfine is missing and could not be installed" >&2; exit 1; }

log "building"
make -s sqlite >/dev/null
PG_OK=0
ENGINES=${BENCH_ENGINES:-sqlite postgresql}
if [[ " $ENGINES " != *" postgresql "* ]]; then
  log "BENCH_ENGINES=$ENGINES: PostgreSQL cases are skipped"
elif command -v pg_config >/dev/null && make -s pg >/dev/null 2>&1 && "${sudo[@]}" make -s -C pg_ext install >/dev/null 2>&1; then
  PG_OK=1
else
  log "the PostgreSQL extension could not be built or installed: PostgreSQL cases are skipped"
fi

work=$(mktemp -d /tmp/migrate-apply-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
  cluster_stop 2>/dev/null || true
  [ -n "${sampler_pid:-}" ] && kill "$sampler_pid" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Freeze the SQLite module for the whole run (the work tree may be rebuilt meanwhile).
cp sqlite_ext/migrate.so "$work/migrate.so"
SO=$work/migrate
CASES=$work/cases.tsv   # engine tool kind n runs status json note
MEM=$work/mem.tsv       # engine tool n client_kb server_kb
META=$work/meta.tsv     # key value
: >"$CASES"
: >"$MEM"
: >"$META"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
unavailable=() # "tool<TAB>reason"

NPM=$work/npm
DBMATE= POSTGRATOR= NODEPGM=
if command -v npm >/dev/null; then
  log "npm install dbmate postgrator-cli node-pg-migrate into $NPM"
  if npm install --prefix "$NPM" --no-audit --no-fund --loglevel=error \
    dbmate@2.36.0 postgrator-cli@9.1.1 pg@8 node-pg-migrate@9.0.0 >"$work/npm.log" 2>&1; then
    [ -x "$NPM/node_modules/.bin/dbmate" ] && "$NPM/node_modules/.bin/dbmate" --version >/dev/null 2>&1 &&
      DBMATE=$NPM/node_modules/.bin/dbmate
    [ -x "$NPM/node_modules/.bin/postgrator" ] && POSTGRATOR=$NPM/node_modules/.bin/postgrator
    [ -x "$NPM/node_modules/.bin/node-pg-migrate" ] && NODEPGM=$NPM/node_modules/.bin/node-pg-migrate
  else
    log "npm install failed: $(tail -3 "$work/npm.log" | tr '\n' ' ')"
  fi
else
  log "npm is not available"
fi
[ -n "$DBMATE" ] || unavailable+=("dbmate	npm package dbmate could not be installed or its binary does not run here")
[ -n "$POSTGRATOR" ] || unavailable+=("postgrator	npm package postgrator-cli could not be installed")
[ -n "$NODEPGM" ] || unavailable+=("node-pg-migrate	npm package node-pg-migrate could not be installed")
SQITCH_OK=0
command -v sqitch >/dev/null && SQITCH_OK=1 ||
  unavailable+=("sqitch	Debian package sqitch could not be installed")
export SQITCH_FULLNAME="bench" SQITCH_EMAIL="bench@example.com" # sqitch refuses to run without

# --- PostgreSQL cluster ---------------------------------------------------------------------
PG_SETTINGS="fsync=on synchronous_commit=on full_page_writes=on wal_level=replica shared_buffers=128MB max_connections=40 max_locks_per_transaction=2048"
if [ "$PG_OK" = 1 ]; then
  # shellcheck source=../tests/pg/cluster.sh
  . tests/pg/cluster.sh
  # shellcheck disable=SC2086
  if cluster_start $PG_SETTINGS; then
    psql -X -q -c 'CREATE DATABASE bench_template' && psql -X -q -d bench_template -c 'CREATE EXTENSION migrate' ||
      PG_OK=0
  else
    PG_OK=0
  fi
  [ "$PG_OK" = 1 ] || log "could not start PostgreSQL with the extension: PostgreSQL cases are skipped"
fi
# A fresh database "bench" for each run. The previous one is renamed, not dropped: on ext4
# without a journal (as here) every file created within 60 s of many deletions pays for a scan
# of the recently deleted inodes, which would slow whichever run follows a drop. They all go
# when the cluster is removed at the end.
cat >"$work/fresh-pg.sh" <<'SH'
#!/bin/sh
set -e
if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'bench'")" = 1 ]; then
  psql -X -q -d postgres -c "ALTER DATABASE bench RENAME TO bench_$(date +%s%N)"
fi
createdb ${1:+-T "$1"} bench
SH
chmod +x "$work/fresh-pg.sh"

# --- machine, versions, settings --------------------------------------------------------------
meta machine "$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
meta disk "$(df -T "$work" | awk 'NR == 2 {print $2}') on $(df "$work" | awk 'NR == 2 {print $1}')"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta migrate "$(git describe --always --dirty 2>/dev/null || echo unknown)"
meta sqlite "$(sqlite3 --version | cut -d' ' -f1)"
sync_level=$(sqlite3 "$work/x.db" 'PRAGMA synchronous')
case $sync_level in 0) sync_level=OFF ;; 1) sync_level=NORMAL ;; 2) sync_level=FULL ;; 3) sync_level=EXTRA ;; esac
meta sqlite_settings "journal_mode=$(sqlite3 "$work/x.db" 'PRAGMA journal_mode'), synchronous=$sync_level (the library's defaults, as each tool opens the file)"
rm -f "$work/x.db"
[ "$PG_OK" = 1 ] && meta postgresql "$(postgres --version 2>/dev/null || "$(pg_config --bindir)/postgres" --version)"
[ "$PG_OK" = 1 ] && meta pg_settings "$(psql -X -At -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_locks_per_transaction', 'max_connections')"); unix socket; scratch cluster from tests/pg/cluster.sh"
meta hyperfine "$(hyperfine --version)"
[ -n "$DBMATE" ] && meta dbmate "$($DBMATE --version)"
[ "$SQITCH_OK" = 1 ] && meta sqitch "$(sqitch --version | head -1)"
[ -n "$POSTGRATOR" ] && meta postgrator "postgrator-cli $(node -p "require('$NPM/node_modules/postgrator-cli/package.json').version") (postgrator $(node -p "require('$NPM/node_modules/postgrator/package.json').version"), pg $(node -p "require('$NPM/node_modules/pg/package.json').version"))"
[ -n "$NODEPGM" ] && meta node_pg_migrate "node-pg-migrate $(node -p "require('$NPM/node_modules/node-pg-migrate/package.json').version")"
command -v node >/dev/null && meta node "$(node --version)"
meta ns "$NS"
meta slow_max_n "$SLOW_MAX_N"
meta quick "$QUICK"
for u in "${unavailable[@]}"; do meta unavailable "$u"; done

# --- running cases ----------------------------------------------------------------------------
# case engine tool kind n runs prepare command [note]
case_run() {
  local engine=$1 tool=$2 kind=$3 n=$4 runs=$5 prepare=$6 cmd=$7 note=${8:-}
  local json=$work/json/$engine-$tool-$kind-$n.json
  mkdir -p "$work/json"
  local args=(--runs "$runs" --style none --export-json "$json")
  [ -n "$prepare" ] && args+=(--prepare "$prepare")
  if hyperfine "${args[@]}" "$cmd" >"$work/hyperfine.log" 2>&1; then
    printf '%s\t%s\t%s\t%s\t%s\tok\t%s\t%s\n' "$engine" "$tool" "$kind" "$n" "$runs" "$json" "$note" >>"$CASES"
    log "$(printf '%-10s %-16s %-6s N=%-5s median %ss' "$engine" "$tool" "$kind" "$n" \
      "$(python3 -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['results'][0]['median'])" "$json")")"
  else
    local why
    why=$(grep -v '^\s*$' "$work/hyperfine.log" | tail -2 | tr '\n\t' '  ')
    printf '%s\t%s\t%s\t%s\t%s\tfailed\t\t%s\n' "$engine" "$tool" "$kind" "$n" "$runs" "failed: $why" >>"$CASES"
    log "$engine $tool $kind N=$n FAILED: $why"
  fi
}
case_skip() { # engine tool kind n reason
  printf '%s\t%s\t%s\t%s\t0\tnot-run\t\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$CASES"
}

# Peak memory of one apply on a fresh database: the client process tree (GNU time) and, on
# PostgreSQL, the largest VmHWM of any backend connected to the bench database (sampled).
mem_measure() { # engine tool n prepare command
  local engine=$1 tool=$2 n=$3 prepare=$4 cmd=$5 server=""
  bash -c "$prepare" >/dev/null 2>&1
  if [ "$engine" = postgresql ]; then
    : >"$work/hwm"
    (
      while :; do
        for p in $(pgrep -f 'postgres: .* bench ' 2>/dev/null); do
          awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null
        done >>"$work/hwm"
        sleep 0.05
      done
    ) &
    sampler_pid=$!
  fi
  /usr/bin/time -f '%M' -o "$work/time.out" bash -c "$cmd" >/dev/null 2>&1 || true
  if [ "$engine" = postgresql ]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=
    server=$(sort -n "$work/hwm" | tail -1)
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$engine" "$tool" "$n" "$(tail -1 "$work/time.out")" "$server" >>"$MEM"
}

# One tool on one engine at one N: apply to a fresh database (timed), then, with everything
# applied, its status command and a no-op apply (timed), and at the largest N the peak memory.
tool_cases() { # engine tool n runs prepare apply status noop
  local engine=$1 tool=$2 n=$3 runs=$4 prepare=$5 apply=$6 status=$7 noop=$8
  case_run "$engine" "$tool" apply "$n" "$runs" "$prepare" "$apply"
  if ! grep -q "^$engine	$tool	apply	$n	.*	ok	" "$CASES"; then
    [ -n "$status" ] && case_skip "$engine" "$tool" status "$n" "apply failed"
    [ -n "$noop" ] && case_skip "$engine" "$tool" noop "$n" "apply failed"
    return
  fi
  # hyperfine's last run left every migration applied
  if [ -n "$status" ]; then case_run "$engine" "$tool" status "$n" "$(runs_for "$n")" "" "$status"
  else case_skip "$engine" "$tool" status "$n" "no status command"; fi
  [ -n "$noop" ] && case_run "$engine" "$tool" noop "$n" "$(runs_for "$n")" "" "$noop"
  [ "$n" = "$MAX_N" ] && [ "$tool" != floor-per-tx ] && mem_measure "$engine" "$tool" "$n" "$prepare" "$apply"
  return 0
}

for n in $NS; do
  runs=$(runs_for "$n")
  d=$work/m$n
  log "generating $n migrations"
  python3 bench/gen.py "$n" "$d"
  chmod -R a+rX "$d"
  migdir=$d/migrate

  case_run any sha256sum status "$n" "$runs" "" "sha256sum $migdir/*.sql"

  # --- SQLite ---
  db=$work/s$n/bench.db
  mkdir -p "$work/s$n"
  fresh="rm -f $work/s$n/*.db $work/s$n/*.db-journal $work/s$n/*.db-wal $work/s$n/*.db-shm"
  tool_cases sqlite floor-1tx "$n" "$runs" "$fresh" "sqlite3 -bail $db < $d/floor/one_tx.sql" "" ""
  tool_cases sqlite floor-per-tx "$n" "$runs" "$fresh" "sqlite3 -bail $db < $d/floor/per_tx.sql" "" ""
  case_run sqlite connect status "$n" "$runs" "" "sqlite3 -bail $db 'SELECT count(*) FROM sqlite_schema'"
  tool_cases sqlite migrate "$n" "$runs" "$fresh" \
    "sqlite3 -bail $db '.load $SO' \"SELECT migrate_apply('$migdir')\"" \
    "sqlite3 -bail $db '.load $SO' \"SELECT * FROM migrations_status('$migdir')\"" \
    "sqlite3 -bail $db '.load $SO' \"SELECT migrate_apply('$migdir')\""
  if [ -n "$DBMATE" ]; then
    dbm="$DBMATE --url sqlite:$db --migrations-dir $d/dbmate/db/migrations --no-dump-schema"
    tool_cases sqlite dbmate "$n" "$runs" "$fresh" "$dbm up" "$dbm status" "$dbm up"
  else
    case_skip sqlite dbmate apply "$n" "not installed"
  fi
  if [ "$SQITCH_OK" = 1 ] && [ "$n" -le "$SLOW_MAX_N" ]; then
    sq="sqitch -C $d/sqitch"
    tool_cases sqlite sqitch "$n" "$(slow_runs_for "$n")" "$fresh" "$sq deploy db:sqlite:$db" \
      "$sq status db:sqlite:$db" "$sq deploy db:sqlite:$db"
  elif [ "$SQITCH_OK" = 1 ]; then
    case_skip sqlite sqitch apply "$n" "not run above N = $SLOW_MAX_N (one sqlite3 process per change; see the per-migration time at smaller N)"
  else
    case_skip sqlite sqitch apply "$n" "not installed"
  fi
  case_skip sqlite postgrator apply "$n" "PostgreSQL only here (its sqlite3 driver needs a native npm build)"
  case_skip sqlite node-pg-migrate apply "$n" "PostgreSQL only"

  # --- PostgreSQL ---
  if [ "$PG_OK" = 1 ]; then
    freshpg="$work/fresh-pg.sh"
    freshext="$work/fresh-pg.sh bench_template"
    p="psql -X -q -v ON_ERROR_STOP=1 -d bench"
    url="postgres://$PGUSER@localhost/bench?host=$PGHOST"
    tool_cases postgresql floor-1tx "$n" "$runs" "$freshpg" "$p -f $d/floor/one_tx.sql" "" ""
    tool_cases postgresql floor-1query "$n" "$runs" "$freshpg" "$p -f $d/floor/one_query.psql" "" ""
    tool_cases postgresql floor-per-tx "$n" "$runs" "$freshpg" "$p -f $d/floor/per_tx.sql" "" ""
    case_run postgresql connect status "$n" "$runs" "" "$p -c 'SELECT 1'"
    tool_cases postgresql migrate "$n" "$runs" "$freshext" \
      "$p -c \"SELECT migrate_apply('$migdir')\"" \
      "$p -c \"SELECT * FROM migrations_status('$migdir')\"" \
      "$p -c \"SELECT migrate_apply('$migdir')\""
    if [ -n "$DBMATE" ]; then
      dbm="$DBMATE --url 'postgres://$PGUSER@/bench?socket=$PGHOST&sslmode=disable' --migrations-dir $d/dbmate/db/migrations --no-dump-schema"
      tool_cases postgresql dbmate "$n" "$runs" "$freshpg" "$dbm up" "$dbm status" "$dbm up"
    else
      case_skip postgresql dbmate apply "$n" "not installed"
    fi
    if [ "$SQITCH_OK" = 1 ] && [ "$n" -le "$SLOW_MAX_N" ]; then
      sq="sqitch -C $d/sqitch"
      tool_cases postgresql sqitch "$n" "$(slow_runs_for "$n")" "$freshpg" "$sq deploy db:pg:bench" \
        "$sq status db:pg:bench" "$sq deploy db:pg:bench"
    elif [ "$SQITCH_OK" = 1 ]; then
      case_skip postgresql sqitch apply "$n" "not run above N = $SLOW_MAX_N (one psql process per change; see the per-migration time at smaller N)"
    else
      case_skip postgresql sqitch apply "$n" "not installed"
    fi
    if [ -n "$POSTGRATOR" ]; then
      pg="$POSTGRATOR --no-config --driver pg --host $PGHOST --username $PGUSER --database bench -m '$d/postgrator/*'"
      tool_cases postgresql postgrator "$n" "$runs" "$freshpg" "$pg" "" "$pg"
    else
      case_skip postgresql postgrator apply "$n" "not installed"
    fi
    if [ -n "$NODEPGM" ]; then
      npg="DATABASE_URL='$url' $NODEPGM up -m $d/nodepgm --verbose false"
      tool_cases postgresql node-pg-migrate "$n" "$runs" "$freshpg" "$npg" "" "$npg"
    else
      case_skip postgresql node-pg-migrate apply "$n" "not installed"
    fi
  else
    case_skip postgresql migrate apply "$n" "PostgreSQL or the extension is not available"
  fi
  rm -rf "$work/s$n"
done
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

log "writing $OUT"
python3 bench/report.py "$work" "$OUT"
cat "$OUT/results.md"
