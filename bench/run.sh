#!/usr/bin/env bash
# Apply benchmark: migrate against the floor (the same SQL piped into sqlite3 / psql) and other
# migration tools (dbmate, sqitch, postgrator, node-pg-migrate), on SQLite and PostgreSQL.
# Prints figures and ratios, never pass/fail. Writes bench/results/results.md, results.csv and
# the charts apply.png, apply-sqlite.png, apply-postgresql.png.
#
#   bench/run.sh            N = 100, 1,000, 5,000 (runs: 10, 5, 3); sqitch up to N = 1,000
#   bench/run.sh --quick    N = 100 and 1,000, 3 runs each
#
# The cases compared with each other run interleaved (bench/interleave.py: one run of each in
# turn, so a shared machine's load weighs on all alike): on each engine the floor, migrate and
# dbmate applying to a fresh database; then, with everything applied, every engine's status
# (with sha256sum and a connection, the floor of status) and every engine's no-op apply. The
# other tools run one after another under hyperfine. Each tool has a database of its own.
#
# Environment: BENCH_NS ("100 1000"), BENCH_RUNS (runs for every N), BENCH_SLOW_MAX_N (largest N
# for sqitch, which runs one client process per migration), BENCH_ENGINES ("sqlite postgresql";
# "sqlite" skips PostgreSQL, which installs the extension into the server), BENCH_OUT
# (bench/results), BENCH_KEEP=1 keeps the scratch folder, BENCH_OTHERS=0 skips the tools beyond
# migrate, dbmate and the floors (sqitch, postgrator, node-pg-migrate, the floor with a
# transaction per migration). Missing tools are installed (apt-get, and npm into the
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
  if [ "$1" -le 100 ]; then echo 10; elif [ "$1" -le 1000 ]; then echo 5; else echo 3; fi
}
slow_runs_for() { # sqitch: one client process per migration, so 3 runs, and 1 from N = 1,000 on
  if [ "$1" -ge 1000 ]; then echo 1; else echo 3; fi
}
MAX_N=$(printf '%s\n' $NS | sort -n | tail -1)
OTHERS=${BENCH_OTHERS:-1}
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
# A fresh database for each run. The previous one is renamed, not dropped: on ext4
# without a journal (as here) every file created within 60 s of many deletions pays for a scan
# of the recently deleted inodes, which would slow whichever run follows a drop. They all go
# when the cluster is removed at the end.
# fresh-pg.sh NAME [TEMPLATE]: a fresh database NAME (one per tool).
cat >"$work/fresh-pg.sh" <<'SH'
#!/bin/sh
set -e
if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$1'")" = 1 ]; then
  psql -X -q -d postgres -c "ALTER DATABASE \"$1\" RENAME TO old_$(date +%s%N)"
fi
createdb ${2:+-T "$2"} "$1"
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
# A group of cases timed round-robin (bench/interleave.py). group_add engine tool kind n prepare
# command adds one; group_run RUNS runs them and records each as case_run would.
group=()
group_add() {
  group+=("$1	$2	$3	$4" "$5" "$6")
}
group_run() { # runs
  local runs=$1 args=() i key json
  [ ${#group[@]} -eq 0 ] && return 0
  mkdir -p "$work/json"
  for ((i = 0; i < ${#group[@]}; i += 3)); do
    IFS=$'\t' read -r e t k n <<<"${group[i]}"
    args+=("$work/json/$e-$t-$k-$n.json" "${group[i + 1]}" "${group[i + 2]}")
    rm -f "$work/json/$e-$t-$k-$n.json"
  done
  python3 bench/interleave.py "$runs" "${args[@]}" 2>"$work/interleave.log" || true
  for ((i = 0; i < ${#group[@]}; i += 3)); do
    IFS=$'\t' read -r e t k n <<<"${group[i]}"
    json=$work/json/$e-$t-$k-$n.json
    if [ -s "$json" ]; then
      printf '%s\t%s\t%s\t%s\t%s\tok\t%s\t%s\n' "$e" "$t" "$k" "$n" "$runs" "$json" "interleaved" >>"$CASES"
      log "$(printf '%-10s %-16s %-6s N=%-5s median %ss (interleaved)' "$e" "$t" "$k" "$n" \
        "$(python3 -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['results'][0]['median'])" "$json")")"
    else
      key=$(grep -F "$json:" "$work/interleave.log" | head -1 | cut -d: -f2- | tr '\n\t' '  ')
      printf '%s\t%s\t%s\t%s\t%s\tfailed\t\t%s\n' "$e" "$t" "$k" "$n" "$runs" "failed:$key" >>"$CASES"
      log "$e $t $k N=$n FAILED:$key"
    fi
  done
  group=()
}
case_ok() { # engine tool kind n: the case ran
  grep -q "^$1	$2	$3	$4	.*	ok	" "$CASES"
}

case_skip() { # engine tool kind n reason
  printf '%s\t%s\t%s\t%s\t0\tnot-run\t\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$CASES"
}

# Peak memory of one apply on a fresh database: the client process tree (GNU time) and, on
# PostgreSQL, the largest VmHWM of any backend connected to the bench database (sampled).
mem_measure() { # engine tool n prepare command [database]
  local engine=$1 tool=$2 n=$3 prepare=$4 cmd=$5 db=${6:-bench} server=""
  bash -c "$prepare" >/dev/null 2>&1
  if [ "$engine" = postgresql ]; then
    : >"$work/hwm"
    (
      while :; do
        for p in $(pgrep -f "postgres: .* $db " 2>/dev/null); do
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

# One tool's status and no-op after its apply ran (hyperfine's last run left every migration
# applied), and at the largest N its peak memory: for the tools that are not interleaved.
after_apply() { # engine tool n prepare apply status noop [database]
  local engine=$1 tool=$2 n=$3 prepare=$4 apply=$5 status=$6 noop=$7 db=${8:-}
  if ! case_ok "$engine" "$tool" apply "$n"; then
    [ -n "$status" ] && case_skip "$engine" "$tool" status "$n" "apply failed"
    [ -n "$noop" ] && case_skip "$engine" "$tool" noop "$n" "apply failed"
    return 0
  fi
  if [ -n "$status" ]; then case_run "$engine" "$tool" status "$n" "$(runs_for "$n")" "" "$status"
  else case_skip "$engine" "$tool" status "$n" "no status command"; fi
  [ -n "$noop" ] && case_run "$engine" "$tool" noop "$n" "$(runs_for "$n")" "" "$noop"
  [ "$n" = "$MAX_N" ] && [ "$tool" != floor-per-tx ] && mem_measure "$engine" "$tool" "$n" "$prepare" "$apply" "$db"
  return 0
}

for n in $NS; do
  runs=$(runs_for "$n")
  d=$work/m$n
  log "generating $n migrations"
  python3 bench/gen.py "$n" "$d"
  chmod -R a+rX "$d"
  migdir=$d/migrate
  mkdir -p "$work/s$n"
  sdb() { echo "$work/s$n/$1.db"; } # SQLite: a database file per tool
  sfresh() { echo "rm -f $work/s$n/$1.db $work/s$n/$1.db-journal $work/s$n/$1.db-wal $work/s$n/$1.db-shm"; }
  p="psql -X -q -v ON_ERROR_STOP=1"
  freshpg="$work/fresh-pg.sh"
  dbm_sqlite="$DBMATE --url sqlite:$(sdb dbmate) --migrations-dir $d/dbmate/db/migrations --no-dump-schema"
  dbm_pg="$DBMATE --url 'postgres://$PGUSER@/bench_dbmate?socket=$PGHOST&sslmode=disable' --migrations-dir $d/dbmate/db/migrations --no-dump-schema"

  # --- apply, interleaved: each engine's floors, migrate and dbmate, each to a fresh database ---
  group_add sqlite floor-1tx apply "$n" "$(sfresh floor)" "sqlite3 -bail $(sdb floor) < $d/floor/one_tx.sql"
  group_add sqlite migrate apply "$n" "$(sfresh migrate)" \
    "sqlite3 -bail $(sdb migrate) '.load $SO' \"SELECT migrate_apply('$migdir')\""
  [ -n "$DBMATE" ] && group_add sqlite dbmate apply "$n" "$(sfresh dbmate)" "$dbm_sqlite up"
  if [ "$PG_OK" = 1 ]; then
    group_add postgresql floor-1query apply "$n" "$freshpg bench_floor" "$p -d bench_floor -f $d/floor/one_query.psql"
    group_add postgresql migrate apply "$n" "$freshpg bench_migrate bench_template" \
      "$p -d bench_migrate -c \"SELECT migrate_apply('$migdir')\""
    [ -n "$DBMATE" ] && group_add postgresql dbmate apply "$n" "$freshpg bench_dbmate" "$dbm_pg up"
  fi
  group_run "$runs"
  [ -n "$DBMATE" ] || case_skip sqlite dbmate apply "$n" "not installed"
  [ "$PG_OK" = 1 ] || case_skip postgresql migrate apply "$n" "PostgreSQL or the extension is not available"
  [ "$PG_OK" = 1 ] && [ -z "$DBMATE" ] && case_skip postgresql dbmate apply "$n" "not installed"

  # --- status and no-op with everything applied, interleaved across engines and tools ---
  group_add any sha256sum status "$n" "" "sha256sum $migdir/*.sql"
  group_add sqlite connect status "$n" "" "sqlite3 -bail $(sdb migrate) 'SELECT count(*) FROM sqlite_schema'"
  case_ok sqlite migrate apply "$n" && group_add sqlite migrate status "$n" "" \
    "sqlite3 -bail $(sdb migrate) '.load $SO' \"SELECT * FROM migrations_status('$migdir')\""
  case_ok sqlite dbmate apply "$n" && group_add sqlite dbmate status "$n" "" "$dbm_sqlite status"
  if [ "$PG_OK" = 1 ]; then
    group_add postgresql connect status "$n" "" "$p -d bench_migrate -c 'SELECT 1'"
    case_ok postgresql migrate apply "$n" && group_add postgresql migrate status "$n" "" \
      "$p -d bench_migrate -c \"SELECT * FROM migrations_status('$migdir')\""
    case_ok postgresql dbmate apply "$n" && group_add postgresql dbmate status "$n" "" "$dbm_pg status"
  fi
  group_run "$runs"
  case_ok sqlite migrate apply "$n" && group_add sqlite migrate noop "$n" "" \
    "sqlite3 -bail $(sdb migrate) '.load $SO' \"SELECT migrate_apply('$migdir')\""
  case_ok sqlite dbmate apply "$n" && group_add sqlite dbmate noop "$n" "" "$dbm_sqlite up"
  if [ "$PG_OK" = 1 ]; then
    case_ok postgresql migrate apply "$n" && group_add postgresql migrate noop "$n" "" \
      "$p -d bench_migrate -c \"SELECT migrate_apply('$migdir')\""
    case_ok postgresql dbmate apply "$n" && group_add postgresql dbmate noop "$n" "" "$dbm_pg up"
  fi
  group_run "$runs"
  if [ "$n" = "$MAX_N" ]; then
    for t in floor migrate dbmate; do
      case_ok sqlite "$([ $t = floor ] && echo floor-1tx || echo $t)" apply "$n" || continue
      case $t in
        floor) cmd="sqlite3 -bail $(sdb floor) < $d/floor/one_tx.sql" ;;
        migrate) cmd="sqlite3 -bail $(sdb migrate) '.load $SO' \"SELECT migrate_apply('$migdir')\"" ;;
        dbmate) cmd="$dbm_sqlite up" ;;
      esac
      mem_measure sqlite "$([ $t = floor ] && echo floor-1tx || echo $t)" "$n" "$(sfresh $t)" "$cmd"
    done
    if [ "$PG_OK" = 1 ]; then
      case_ok postgresql floor-1query apply "$n" && mem_measure postgresql floor-1query "$n" \
        "$freshpg bench_floor" "$p -d bench_floor -f $d/floor/one_query.psql" bench_floor
      case_ok postgresql migrate apply "$n" && mem_measure postgresql migrate "$n" \
        "$freshpg bench_migrate bench_template" "$p -d bench_migrate -c \"SELECT migrate_apply('$migdir')\"" bench_migrate
      case_ok postgresql dbmate apply "$n" && mem_measure postgresql dbmate "$n" \
        "$freshpg bench_dbmate" "$dbm_pg up" bench_dbmate
    fi
  fi

  # --- the other tools, one after another ---
  if [ "$OTHERS" = 1 ]; then
    case_run sqlite floor-per-tx apply "$n" "$runs" "$(sfresh pertx)" "sqlite3 -bail $(sdb pertx) < $d/floor/per_tx.sql"
    if [ "$SQITCH_OK" = 1 ] && [ "$n" -le "$SLOW_MAX_N" ]; then
      sq="sqitch -C $d/sqitch"
      case_run sqlite sqitch apply "$n" "$(slow_runs_for "$n")" "$(sfresh sqitch)" "$sq deploy db:sqlite:$(sdb sqitch)"
      after_apply sqlite sqitch "$n" "$(sfresh sqitch)" "$sq deploy db:sqlite:$(sdb sqitch)" \
        "$sq status db:sqlite:$(sdb sqitch)" "$sq deploy db:sqlite:$(sdb sqitch)"
    elif [ "$SQITCH_OK" = 1 ]; then
      case_skip sqlite sqitch apply "$n" "not run above N = $SLOW_MAX_N (one sqlite3 process per change; see the per-migration time at smaller N)"
    else
      case_skip sqlite sqitch apply "$n" "not installed"
    fi
    case_skip sqlite postgrator apply "$n" "PostgreSQL only here (its sqlite3 driver needs a native npm build)"
    case_skip sqlite node-pg-migrate apply "$n" "PostgreSQL only"
  fi
  if [ "$PG_OK" = 1 ] && [ "$OTHERS" = 1 ]; then
    case_run postgresql floor-1tx apply "$n" "$runs" "$freshpg bench_floor1tx" "$p -d bench_floor1tx -f $d/floor/one_tx.sql"
    [ "$n" = "$MAX_N" ] && case_ok postgresql floor-1tx apply "$n" && mem_measure postgresql floor-1tx "$n" \
      "$freshpg bench_floor1tx" "$p -d bench_floor1tx -f $d/floor/one_tx.sql" bench_floor1tx
    case_run postgresql floor-per-tx apply "$n" "$runs" "$freshpg bench_pertx" "$p -d bench_pertx -f $d/floor/per_tx.sql"
    if [ "$SQITCH_OK" = 1 ] && [ "$n" -le "$SLOW_MAX_N" ]; then
      sq="sqitch -C $d/sqitch"
      case_run postgresql sqitch apply "$n" "$(slow_runs_for "$n")" "$freshpg bench_sqitch" "$sq deploy db:pg:bench_sqitch"
      after_apply postgresql sqitch "$n" "$freshpg bench_sqitch" "$sq deploy db:pg:bench_sqitch" \
        "$sq status db:pg:bench_sqitch" "$sq deploy db:pg:bench_sqitch" bench_sqitch
    elif [ "$SQITCH_OK" = 1 ]; then
      case_skip postgresql sqitch apply "$n" "not run above N = $SLOW_MAX_N (one psql process per change; see the per-migration time at smaller N)"
    else
      case_skip postgresql sqitch apply "$n" "not installed"
    fi
    if [ -n "$POSTGRATOR" ]; then
      pg="$POSTGRATOR --no-config --driver pg --host $PGHOST --username $PGUSER --database bench_postgrator -m '$d/postgrator/*'"
      case_run postgresql postgrator apply "$n" "$runs" "$freshpg bench_postgrator" "$pg"
      after_apply postgresql postgrator "$n" "$freshpg bench_postgrator" "$pg" "" "$pg" bench_postgrator
    else
      case_skip postgresql postgrator apply "$n" "not installed"
    fi
    if [ -n "$NODEPGM" ]; then
      url="postgres://$PGUSER@localhost/bench_nodepgm?host=$PGHOST"
      npg="DATABASE_URL='$url' $NODEPGM up -m $d/nodepgm --verbose false"
      case_run postgresql node-pg-migrate apply "$n" "$runs" "$freshpg bench_nodepgm" "$npg"
      after_apply postgresql node-pg-migrate "$n" "$freshpg bench_nodepgm" "$npg" "" "$npg" bench_nodepgm
    else
      case_skip postgresql node-pg-migrate apply "$n" "not installed"
    fi
  fi
  rm -rf "$work/s$n"
done
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

log "writing $OUT"
python3 bench/report.py "$work" "$OUT"
cat "$OUT/results.md"
