#!/usr/bin/env bash
# A throwaway PostgreSQL on localhost, for the tests and the benchmarks.   Usage: postgres-local.sh start | stop
# start: installs the Debian server if missing, initdb's a fresh cluster in $PGSTATE, listens on
#        127.0.0.1:$PGPORT only, and writes the connection string to $PGSTATE/conn.
#        Durable by default (fsync on, as in production); PG_FAST=1 turns fsync off for quicker tests.
# stop:  stops only that cluster and deletes $PGSTATE.
set -euo pipefail
PGSTATE=${PGSTATE:-/tmp/gpufleet-pg}
PGPORT=${PGPORT:-55432}

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); else AS_PG=(); fi

stop() {
  local BIN; BIN=$(pgbin)
  if [ -n "$BIN" ] && [ -f "$PGSTATE/data/postmaster.pid" ]; then
    local PID; PID=$(head -1 "$PGSTATE/data/postmaster.pid")
    "${AS_PG[@]}" "$BIN/pg_ctl" -D "$PGSTATE/data" -m fast -w stop >/dev/null 2>&1 || kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done   # pg_ctl returns before the pid exits
  fi
  rm -rf "$PGSTATE"
}

case "${1:-}" in
start)
  if [ -z "$(pgbin)" ]; then
    [ "$(id -u)" = 0 ] || { echo "postgresql is not installed; run as root once to install it" >&2; exit 1; }
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  fi
  BIN=$(pgbin)
  stop
  mkdir -p "$PGSTATE"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGSTATE"; fi
  OPTS="-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGSTATE -c max_connections=300"
  if [ "${PG_FAST:-0}" = 1 ]; then OPTS="$OPTS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
  "${AS_PG[@]}" "$BIN/initdb" -D "$PGSTATE/data" -U postgres -A trust -E UTF8 --no-sync >"$PGSTATE/initdb.log"
  "${AS_PG[@]}" "$BIN/pg_ctl" -D "$PGSTATE/data" -l "$PGSTATE/server.log" -w -t 60 -o "$OPTS" start >/dev/null
  echo "Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres" >"$PGSTATE/conn"
  echo "postgres up: pid $(head -1 "$PGSTATE/data/postmaster.pid"), port $PGPORT, connection string in $PGSTATE/conn"
  ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
