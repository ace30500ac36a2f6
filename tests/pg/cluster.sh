#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb into a temp folder as an unprivileged
# user, unix socket only (no TCP), stopped by cluster_stop (callers trap it on EXIT).
# Source this file, then: cluster_start [extra postgres -c settings...]; cluster_stop.
# pg_q and pg_q_quiet run psql against it (or any cluster the PG* variables name).

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null)}

# Run a command as the cluster's owner (initdb and postgres refuse root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$CLUSTER_OWNER" -- "$@"
  else
    "$@"
  fi
}

cluster_start() {
  if [ "$(id -u)" -eq 0 ]; then
    CLUSTER_OWNER=${CLUSTER_OWNER:-postgres}
    id "$CLUSTER_OWNER" >/dev/null 2>&1 || useradd --system --no-create-home "$CLUSTER_OWNER"
  else
    CLUSTER_OWNER=$(id -un)
  fi
  CLUSTER_DIR=$(mktemp -d /tmp/migrate-pg.XXXXXX)
  chmod 755 "$CLUSTER_DIR"
  [ "$(id -u)" -eq 0 ] && chown "$CLUSTER_OWNER" "$CLUSTER_DIR"
  as_owner "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -U "$CLUSTER_OWNER" -A trust \
    --no-sync -E UTF8 --locale=C >"$CLUSTER_DIR/initdb.log" 2>&1 ||
    { cat "$CLUSTER_DIR/initdb.log" >&2; return 1; }
  local opts="-c listen_addresses='' -c unix_socket_directories='$CLUSTER_DIR' -c fsync=off"
  opts+=" -c max_connections=40 -c shared_buffers=64MB"
  local extra
  for extra in "$@"; do opts+=" -c $extra"; done
  as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -o "$opts" \
    -w -t 60 start >/dev/null || { cat "$CLUSTER_DIR/server.log" >&2; return 1; }
  export PGHOST="$CLUSTER_DIR" PGPORT=5432 PGUSER="$CLUSTER_OWNER" PGDATABASE=postgres
}

cluster_stop() {
  [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ] || return 0
  as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}

# pg_q [psql options...]: psql for scripts: no psqlrc, unaligned tuples only, stop at the first
# error.
pg_q() {
  psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}

# pg_q_quiet [psql options...]: pg_q with the server's NOTICEs off.
pg_q_quiet() {
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" pg_q "$@"
}
