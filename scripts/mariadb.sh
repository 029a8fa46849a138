#!/usr/bin/env bash
# A throwaway MariaDB server for tests and benchmarks, from Debian's packages (mariadb-server).
#   scripts/mariadb.sh start DIR PORT   initialise DIR (if new) and start on 127.0.0.1:PORT
#                                       (unix socket DIR/sock); prints the DSN of database
#                                       "authsvc" (user "app", no password, every privilege)
#   scripts/mariadb.sh stop DIR         stop it (by the PID in DIR/pid)
# As root the server runs as root (--user=root), so DIR may be any private directory.
# Durability is traded for speed: a commit reaches the OS, not the disk (no fsync per commit,
# no doublewrite), so a killed server loses nothing, a crashed machine may: tests only.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}

case "$cmd" in
  start)
    port=${3:?PORT}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    user=$(id -un)
    cat >"$dir/my.cnf" <<EOF
[mysqld]
user=$user
datadir=$dir/data
socket=$dir/sock
port=$port
bind-address=127.0.0.1
pid-file=$dir/pid
log-error=$dir/err.log
skip-name-resolve
skip-log-bin
default_storage_engine=InnoDB
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
innodb_flush_method=nosync
performance_schema=OFF
max_connections=600
EOF
    if [ ! -d "$dir/data/mysql" ]; then
      mariadb-install-db --defaults-file="$dir/my.cnf" --user="$user" --skip-test-db \
        >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    fi
    mariadbd --defaults-file="$dir/my.cnf" >/dev/null 2>&1 </dev/null &
    for _ in $(seq 1 300); do
      if mariadb --socket="$dir/sock" -u root -e "SELECT 1" >/dev/null 2>&1; then break; fi
      if ! kill -0 $! 2>/dev/null; then cat "$dir/err.log" >&2; exit 1; fi
      sleep 0.1
    done
    mariadb --socket="$dir/sock" -u root -e "CREATE USER IF NOT EXISTS 'app'@'%';
      GRANT ALL ON *.* TO 'app'@'%' WITH GRANT OPTION;
      CREATE DATABASE IF NOT EXISTS authsvc" || { cat "$dir/err.log" >&2; exit 1; }
    echo "host=127.0.0.1 port=$port db=authsvc user=app"
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      pid=$(cat "$dir/pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
