#!/usr/bin/env bash
# A throwaway PgBouncer (Debian's package) in transaction pooling mode in front of a
# PostgreSQL server, for tests and benchmarks.
#   scripts/pgbouncer.sh start DIR PORT PGPORT [POOL [WAIT]]  start on 127.0.0.1:PORT in
#       front of 127.0.0.1:PGPORT; every database of that server is reachable under its own
#       name (a "*" fallback entry), user "app" (trust); POOL server connections per
#       database (default 4); WAIT: query_wait_timeout in seconds (default 10); prints the
#       DSN (no dbname); admin console: database "pgbouncer", user "app"
#   scripts/pgbouncer.sh stop DIR                      stop it (SIGINT: at once)
# PgBouncer refuses to run as root: as root it runs as the "postgres" user.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    port=${3:?PORT}; pgport=${4:?PGPORT}; pool=${5:-4}; wait=${6:-10}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    echo '"app" ""' >"$dir/users.txt"
    # query_wait_timeout: a client waiting that long for a server connection gets an error
    # (authsvc: 503), not a hang; server_login_retry: how soon a server that went away is
    # tried again.
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$pgport
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
admin_users = app
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 2000
query_wait_timeout = $wait
server_login_retry = 1
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"/*
    as_pg /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
    for _ in $(seq 50); do  # -d returns before it listens
      if psql -h 127.0.0.1 -p "$port" -U app -d pgbouncer -tAc "SHOW VERSION" >/dev/null 2>&1; then
        echo "host=127.0.0.1 port=$port user=app"
        exit 0
      fi
      sleep 0.1
    done
    echo "PgBouncer did not start: $(tail -5 "$dir/pgbouncer.log" 2>/dev/null)" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/pgbouncer.pid" ]; then
      pid=$(cat "$dir/pgbouncer.pid")
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    ;;
  *) echo "usage: $0 start DIR PORT PGPORT [POOL [WAIT]] | stop DIR" >&2; exit 2 ;;
esac
