#!/usr/bin/python3
"""Refresh on a three-node MariaDB Galera cluster, all on this machine (scripts/galera.sh),
with three authsvc instances, one per node. Run as root (the nodes run as user mysql):

    bench/galera.py BUILD/authsvc [--seconds 10] [--clients 12]

Two phases, each --seconds long:
- chains: --clients clients, each with its own session, refresh one after another through
  instance (client % 3): independent rotations, no conflicts between them;
- races: groups of three clients, one per instance, refresh the same token at the same
  moment, round after round (each round: one rotation, two answered from the grace window),
  so that nodes collide at COMMIT: the conflict reruns (authsvc_db_conflict_retries_total,
  summed over the instances) are counted.
Prints the cluster's start time and one Markdown row per phase. The clients are Python
threads (one interpreter): they, the three servers and the three nodes share the cores.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GALERA = os.path.join(ROOT, "scripts", "galera.sh")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rand(n):
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def post(self, path, body):
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.request("POST", path, json.dumps(body),
                                  {"Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, (json.loads(data) if data else {})
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    return 0, {}

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        except OSError:
            return 0, ""
        finally:
            c.close()


def conflict_retries(ports):
    total = 0
    for p in ports:
        _, text = Client(p).get("/metrics")
        for line in text.splitlines():
            if line.startswith("authsvc_db_conflict_retries_total "):
                total += int(float(line.split()[1]))
    return total


def percentile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=12)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the Galera nodes run as user mysql")

    work = tempfile.mkdtemp(prefix="authsvc-bench-galera.")
    os.chmod(work, 0o755)
    servers = []
    try:
        began = time.time()
        out = subprocess.run([GALERA, "start", work + "/cluster"], check=True,
                             capture_output=True, text=True).stdout
        formed = time.time() - began
        dsns = [l for l in out.splitlines() if l.startswith("host=")]
        print("cluster of 3 formed in %.1f s" % formed, flush=True)

        jwt, refresh = rand(48), rand(48)
        ports = []
        for i, dsn in enumerate(dsns):
            port = free_port()
            d = os.path.join(work, "i%d" % (i + 1))
            os.mkdir(d)
            config = {
                "server": {"host": "127.0.0.1", "port": port},
                "database": {"backend": "mysql", "mysql": {"dsn": dsn}},
                "jwt": {"secret": jwt},
                "refresh": {"secret": refresh, "reuse_grace": "10s"},
                "auth": {"argon2id": {"memory_kib": 64, "iterations": 1, "parallelism": 1},
                         "register_rate_limit": {"per_ip_per_hour": 0}},
                "log": {"level": "warn"},
            }
            with open(os.path.join(d, "config.yaml"), "w") as f:
                json.dump(config, f)  # JSON is YAML
            log = open(os.path.join(d, "server.log"), "w")
            env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSVC_")}
            servers.append(subprocess.Popen([os.path.abspath(args.binary), "serve", "--config", "config.yaml"],
                                            cwd=d, env=env, stdout=log, stderr=subprocess.STDOUT))
            # One after another: the first migrates, the others find it done.
            for _ in range(600):
                if Client(port).get("/readyz")[0] == 200:
                    break
                time.sleep(0.1)
            else:
                sys.exit("instance %d did not get ready; see %s" % (i + 1, d))
            ports.append(port)

        def new_token(c):
            email = "bench-%s@example.com" % rand(12).lower()
            assert c.post("/api/register", {"email": email, "password": "correct horse battery"})[0] == 201
            st, body = c.post("/api/login", {"email": email, "password": "correct horse battery"})
            assert st == 200, st
            return body["refresh_token"]

        rows = []
        stop = threading.Event()

        def run_phase(target, n):
            """n threads of target(i) for --seconds; the seconds they ran."""
            stop.clear()
            threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
            t0 = time.time()
            for t in threads:
                t.start()
            time.sleep(args.seconds)
            stop.set()
            for t in threads:
                t.join()
            return time.time() - t0

        # --- chains
        admin = Client(ports[0])
        tokens = [new_token(admin) for _ in range(args.clients)]
        stats = {"ok": 0, "other": {}, "lat": []}
        lock = threading.Lock()

        def chain(k):
            c = Client(ports[k % 3])
            token = tokens[k]
            lat, ok, other = [], 0, {}
            while not stop.is_set():
                t0 = time.perf_counter()
                st, body = c.post("/api/refresh_token", {"refresh_token": token})
                lat.append(time.perf_counter() - t0)
                if st == 200:
                    ok += 1
                    token = body["refresh_token"]
                else:
                    other[st] = other.get(st, 0) + 1
            with lock:
                stats["ok"] += ok
                stats["lat"] += lat
                for s, n in other.items():
                    stats["other"][s] = stats["other"].get(s, 0) + n

        before = conflict_retries(ports)
        elapsed = run_phase(chain, args.clients)
        rows.append(("chains: %d clients, own sessions, through the 3 instances" % args.clients,
                     stats["ok"] / elapsed, percentile(stats["lat"], 0.5) * 1000,
                     percentile(stats["lat"], 0.99) * 1000, stats["other"],
                     conflict_retries(ports) - before, "%d rotations" % stats["ok"]))

        # --- races
        groups = max(1, args.clients // 3)
        race_tokens = [new_token(admin) for _ in range(groups)]
        rstats = {"rounds": 0, "ok": 0, "other": {}, "bad": 0}

        def race(g):
            clients = [Client(p) for p in ports]
            token = race_tokens[g]
            barrier = threading.Barrier(3)
            results = [None] * 3

            def one(i):
                barrier.wait()
                results[i] = clients[i].post("/api/refresh_token", {"refresh_token": token})

            rounds = ok = bad = 0
            other = {}
            while not stop.is_set():
                ts = [threading.Thread(target=one, args=(i,)) for i in range(3)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                successors = {b.get("refresh_token") for st, b in results if st == 200}
                for st, _ in results:
                    if st == 200:
                        ok += 1
                    else:
                        other[st] = other.get(st, 0) + 1
                if len(successors) != 1:
                    bad += 1
                    break
                token = successors.pop()
                rounds += 1
            with lock:
                rstats["rounds"] += rounds
                rstats["ok"] += ok
                rstats["bad"] += bad
                for s, n in other.items():
                    rstats["other"][s] = rstats["other"].get(s, 0) + n

        before = conflict_retries(ports)
        elapsed = run_phase(race, groups)
        rows.append(("races: %d tokens, each refreshed by 3 clients at once (one per instance)"
                     % groups, rstats["rounds"] / elapsed, None, None, rstats["other"],
                     conflict_retries(ports) - before,
                     "%d rounds (rotations), %d answers 200, rounds without exactly one "
                     "successor: %d" % (rstats["rounds"], rstats["ok"], rstats["bad"])))

        print("| phase | rotations/s | p50 ms | p99 ms | non-200 | conflict reruns | notes |")
        print("|---|---|---|---|---|---|---|")
        for name, rate, p50, p99, other, conflicts, notes in rows:
            print("| %s | %.0f | %s | %s | %s | %d | %s |" % (
                name, rate, "-" if p50 is None else "%.1f" % p50,
                "-" if p99 is None else "%.1f" % p99,
                ", ".join("%s: %d" % kv for kv in sorted(other.items())) or "0", conflicts,
                notes))
        print("load average after: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            try:
                s.wait(timeout=20)
            except subprocess.TimeoutExpired:
                s.kill()
        subprocess.run([GALERA, "stop", work + "/cluster"], capture_output=True)
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
