#!/usr/bin/env bash
# A throwaway three-node MariaDB Galera cluster on one machine, for tests and benchmarks
# (Debian mariadb-server 10.11 + galera-4 + rsync; ../shared/LIBRARIES.md §7 has the recipe).
#   scripts/galera.sh start DIR      initialise DIR (must not hold a cluster yet), start three
#                                    nodes on random free ports (client, gcomm, IST, SST per
#                                    node), node 1 bootstrapping the cluster; waits until
#                                    wsrep_cluster_size = 3 and every node is Synced, creates
#                                    database "authsvc" and user "app" (no password) and prints
#                                    the three DSNs, one a line (node 1 first)
#   scripts/galera.sh stop DIR       stop every node (SIGTERM, then SIGKILL after 60 s)
#   scripts/galera.sh kill DIR N     SIGKILL node N (1..3), as a crash would
#   scripts/galera.sh restart DIR N  start node N again (it rejoins through IST or SST) and
#                                    wait until it is Synced and the cluster has 3 nodes
#   scripts/galera.sh dsn DIR N      print node N's DSN
#   scripts/galera.sh sql DIR N SQL  run SQL on node N as root (tab-separated, no header)
# Runs as root (the test script context): the servers run as user "mysql". Forming the
# cluster takes 14-27 s on the shared 2-core VM (bench/RESULTS.md, "Galera").
set -euo pipefail
cmd=${1:?start|stop|kill|restart|dsn|sql}; dir=${2:?DIR}
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (the nodes run as user mysql)" >&2; exit 2; }
timeout_s=${AUTHSVC_GALERA_TIMEOUT:-180}

# A port nobody listens on and that no node of this cluster has taken.
taken=""
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    case " $taken " in *" $p "*) continue ;; esac
    if ! ss -Htan "( sport = :$p )" | grep -q .; then taken="$taken $p"; echo "$p"; return; fi
  done
}

node_sql() {  # node, SQL: as root through the node's socket
  mariadb --socket="$dir/n$1/sock" -uroot -N -B -e "$2"
}
node_status() {  # node, status variable -> value (empty if the node does not answer)
  node_sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2 || true
}
node_pid() { cat "$dir/n$1/pid" 2>/dev/null || true; }
node_alive() { local pid; pid=$(node_pid "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

launch() {  # node, extra mariadbd options...
  local i=$1; shift
  rm -f "$dir/n$i/pid"
  # Detached: the node outlives this script (and ctest's pipe), like a service.
  setsid runuser -u mysql -- mariadbd --defaults-file="$dir/n$i/my.cnf" "$@" \
    </dev/null >>"$dir/n$i/out.log" 2>&1 &
  # mariadbd writes its pid-file itself; until then remember the launcher's child.
  local waited=0
  while [ ! -s "$dir/n$i/pid" ] && [ $waited -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
}

wait_synced() {  # nodes... : each Synced in a cluster of 3
  local start=$SECONDS i size state
  for i in "$@"; do
    while :; do
      size=$(node_status "$i" wsrep_cluster_size)
      state=$(node_status "$i" wsrep_local_state_comment)
      [ "$size" = 3 ] && [ "$state" = Synced ] && break
      if [ $((SECONDS - start)) -ge "$timeout_s" ] || ! node_alive "$i"; then
        echo "$0: node $i not Synced in a cluster of 3 (size '$size', state '$state');" \
          "its log: $dir/n$i/err.log" >&2
        tail -n 30 "$dir/n$i/err.log" >&2 || true
        return 1
      fi
      sleep 0.5
    done
  done
}

dsn() { echo "host=127.0.0.1 port=$(cat "$dir/n$1/port") db=authsvc user=app"; }

case "$cmd" in
  start)
    [ ! -e "$dir/n1" ] || { echo "$0: $dir already holds a cluster" >&2; exit 2; }
    mkdir -p "$dir"; chmod 755 "$dir"
    declare -a port gcomm ist sst
    for i in 1 2 3; do
      port[i]=$(free_port); gcomm[i]=$(free_port); ist[i]=$(free_port); sst[i]=$(free_port)
    done
    members="127.0.0.1:${gcomm[1]},127.0.0.1:${gcomm[2]},127.0.0.1:${gcomm[3]}"
    for i in 1 2 3; do
      install -d -o mysql -g mysql -m 750 "$dir/n$i" "$dir/n$i/data"
      echo "${port[i]}" >"$dir/n$i/port"
      cat >"$dir/n$i/my.cnf" <<EOF
[mysqld]
datadir=$dir/n$i/data
socket=$dir/n$i/sock
port=${port[i]}
bind-address=127.0.0.1
pid-file=$dir/n$i/pid
log-error=$dir/n$i/err.log
character-set-server=utf8mb4
collation-server=utf8mb4_bin
max_connections=300
skip-name-resolve
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=authsvc-test
wsrep_cluster_address=gcomm://$members
wsrep_node_name=n$i
wsrep_node_address=127.0.0.1:${gcomm[i]}
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${gcomm[i]};ist.recv_addr=127.0.0.1:${ist[i]};gcache.size=32M"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:${sst[i]}
EOF
      chown mysql:mysql "$dir/n$i/my.cnf" "$dir/n$i/port"
    done
    begin=$SECONDS
    mariadb-install-db --defaults-file="$dir/n1/my.cnf" --user=mysql --skip-test-db \
      --auth-root-authentication-method=socket >"$dir/n1/install.log" 2>&1 ||
      { cat "$dir/n1/install.log" >&2; exit 1; }
    launch 1 --wsrep-new-cluster
    # Node 1 alone first: the others join a Primary component.
    for _ in $(seq 1 $((timeout_s * 2))); do
      [ "$(node_status 1 wsrep_local_state_comment)" = Synced ] && break
      node_alive 1 || break
      sleep 0.5
    done
    [ "$(node_status 1 wsrep_local_state_comment)" = Synced ] ||
      { echo "$0: node 1 did not bootstrap; $dir/n1/err.log:" >&2; tail -n 30 "$dir/n1/err.log" >&2; exit 1; }
    node_sql 1 "CREATE DATABASE authsvc CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
      CREATE USER 'app'@'127.0.0.1'; GRANT ALL ON authsvc.* TO 'app'@'127.0.0.1';
      CREATE USER 'app'@'localhost'; GRANT ALL ON authsvc.* TO 'app'@'localhost';"
    # Nodes 2 and 3 start empty and receive node 1's state by SST (rsync), one after another.
    launch 2; launch 3
    wait_synced 1 2 3
    echo "$0: cluster of 3 formed in $((SECONDS - begin)) s" >&2
    for i in 1 2 3; do dsn "$i"; done
    ;;
  stop)
    pids=""
    for i in 1 2 3; do node_alive "$i" && pids="$pids $(node_pid "$i")"; done
    # shellcheck disable=SC2086 # a list of pids
    [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 600); do
      alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive -eq 0 ] && break
      sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    # An SST's rsync daemon may outlive a killed node.
    for i in 1 2 3; do
      f="$dir/n$i/data/rsync_sst.pid"
      if [ -s "$f" ]; then kill -KILL "$(cat "$f")" 2>/dev/null || true; fi
    done
    ;;
  kill)
    n=${3:?NODE}
    pid=$(node_pid "$n"); [ -n "$pid" ] || { echo "$0: node $n has no pid" >&2; exit 1; }
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    ;;
  restart)
    n=${3:?NODE}
    node_alive "$n" && { echo "$0: node $n is running" >&2; exit 1; }
    begin=$SECONDS
    launch "$n"
    wait_synced "$n"
    echo "$0: node $n rejoined in $((SECONDS - begin)) s" >&2
    ;;
  dsn) dsn "${3:?NODE}" ;;
  sql) node_sql "${3:?NODE}" "${4:?SQL}" ;;
  *) echo "usage: $0 start DIR | stop DIR | kill DIR N | restart DIR N | dsn DIR N | sql DIR N SQL" >&2; exit 2 ;;
esac
