"""What the suite's Python tests (tests/browser, tests/oauth) share: named checks, a free
port, and a real authsvc process on it, stopped with SIGTERM (its log printed when a check
failed). Each test is a process of its own: the module's state is that test's."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, body=None, token=None, form=None):
    """(status, headers, text) of one request: `body` sent as JSON, or `form` (a dict) as
    application/x-www-form-urlencoded; `token` as a Bearer header."""
    data = None
    req = urllib.request.Request(base + path, method=method)
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, data=data, timeout=15) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def clean_env():
    """The environment without AUTHSVC_* variables: the test's config file decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AUTHSVC_")}


class Server:
    """`binary serve --config config` in `work`, its output in work/server.log."""

    def __init__(self, binary, work, config):
        self.work = work
        self.log = open(os.path.join(work, "server.log"), "w")
        self.process = subprocess.Popen([binary, "serve", "--config", config], cwd=work,
                                        env=clean_env(), stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, base, timeout):
        """True once GET /readyz answers 200, within `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
                    if r.status == 200:
                        return True
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        """SIGTERM (SIGKILL after 20 s); prints the log's end when a check failed; removes
        the work directory."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        if failures:
            with open(os.path.join(self.work, "server.log")) as f:
                print(f.read()[-3000:])
        shutil.rmtree(self.work, ignore_errors=True)


def verdict():
    """The process's exit code, after one summary line."""
    print("%d check(s) failed" % len(failures) if failures else "every check passed")
    return 1 if failures else 0
