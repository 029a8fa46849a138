#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's packages.
#   scripts/pg.sh start DIR PORT   initialise DIR (if new) and start on 127.0.0.1:PORT;
#                                  prints the DSN of database "authsvc" (user "app")
#   scripts/pg.sh stop DIR         stop it (fast shutdown)
# initdb refuses to run as root, so as root the server runs as the "postgres" user.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    port=${3:?PORT}
    if [ ! -d "$dir/data" ]; then
      mkdir -p "$dir"
      if [ "$(id -u)" -eq 0 ]; then
        install -d -o postgres -g postgres -m 700 "$dir/data"
        install -d -o postgres -g postgres -m 755 "$dir/sock" "$dir/log"
      else
        install -d -m 700 "$dir/data"; install -d -m 755 "$dir/sock" "$dir/log"
      fi
      as_pg "$bin/initdb" -D "$dir/data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log/pg.log" -w -t 30 \
      -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
    psql -h 127.0.0.1 -p "$port" -U app -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='authsvc'" | grep -q 1 ||
      psql -h 127.0.0.1 -p "$port" -U app -d postgres -qc "CREATE DATABASE authsvc" >/dev/null
    echo "host=127.0.0.1 port=$port dbname=authsvc user=app"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
