#!/usr/bin/python3
"""The README's Node verifier (examples/node-verifier, on the npm package jose) against the
real authsvc: it knows only the issuer, reads the RFC 8414 metadata, then the JWKS the
metadata names, and verifies an access token from POST /oauth/token; it refuses the token
with its signature tampered with, a token for another audience, and a token of another
issuer signed with the same key (a second authsvc whose jwt.issuer differs).

Usage: test_node_verifier.py AUTHSVC_BINARY WORK_DIR

WORK_DIR receives the example's package.json and lock, its node_modules (npm ci, again only
when the lock changed) and its scripts. Exit 0 when every check passed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from authsvc_process import Server, check, clean_env, free_port, request, verdict  # noqa: E402

EXAMPLE = os.path.join(HERE, "..", "..", "examples", "node-verifier")
AUDIENCE = "authsvc-clients"
PASSWORD = "correct horse battery"


def install(work):
    subprocess.run(["bash", os.path.join(HERE, "..", "support", "npm-ci.sh"), EXAMPLE, work],
                   check=True, timeout=600)
    for name in os.listdir(EXAMPLE):
        if name.endswith(".mjs"):
            shutil.copy(os.path.join(EXAMPLE, name), work)


def write_config(path, work, port, issuer, keys_dir, kid=None):
    with open(path, "w") as f:
        f.write("server: {host: 127.0.0.1, port: %d, public_url: http://127.0.0.1:%d}\n"
                % (port, port))
        f.write("database: {sqlite: {path: %s}}\n" % json.dumps(os.path.join(work, "a.db")))
        f.write("jwt: {issuer: %s, keys_dir: %s%s}\n"
                % (json.dumps(issuer), json.dumps(keys_dir), ", signing_kid: " + kid if kid else ""))
        f.write("refresh: {secret: %s}\n" % json.dumps("r" * 48))
        f.write("auth: {argon2id: {memory_kib: 64, iterations: 1}}\n")


def access_token(base, email):
    """Registers `email` and returns an access token from POST /oauth/token."""
    status, _, _ = request(base, "POST", "/api/register", {"email": email, "password": PASSWORD})
    check(status == 201, "register at " + base)
    status, _, body = request(base, "POST", "/oauth/token", form={
        "grant_type": "password", "username": email, "password": PASSWORD})
    check(status == 200, "POST /oauth/token at " + base)
    return json.loads(body).get("access_token", "") if status == 200 else ""


def verify(work, issuer, token, audience=AUDIENCE):
    """(exit code, stdout, stderr) of the example's command line on `token`."""
    r = subprocess.run(["node", "verify-token.mjs", issuer, audience], cwd=work, input=token,
                       capture_output=True, text=True, timeout=60)
    print("     node: exit %d %s%s" % (r.returncode, r.stdout.strip()[:200], r.stderr.strip()[:300]))
    return r.returncode, r.stdout, r.stderr


def tampered(token):
    """The token with one character in the middle of its signature changed."""
    head, _, signature = token.rpartition(".")
    i = len(signature) // 2
    return head + "." + signature[:i] + ("A" if signature[i] != "A" else "B") + signature[i + 1:]


def main():
    binary = os.path.abspath(sys.argv[1])
    work = os.path.abspath(sys.argv[2])
    install(work)
    tmp = tempfile.mkdtemp(prefix="authsvc-node-")
    keys_dir = os.path.join(tmp, "keys")
    servers = []
    try:
        # The issuer that discovery serves (jwt.issuer == server.public_url), ES256 key k1;
        # and another issuer that signs with the same key (its tokens verify, their iss not).
        port, other_port = free_port(), free_port()
        base = "http://127.0.0.1:%d" % port
        dirs = {base: os.path.join(tmp, "a"), "https://other.example.com": os.path.join(tmp, "b")}
        for (issuer, d), p in zip(dirs.items(), (port, other_port)):
            os.makedirs(d)
            write_config(os.path.join(d, "config.yaml"), d, p, issuer, keys_dir)
        generated = subprocess.run(
            [binary, "keys", "generate", "--config", os.path.join(dirs[base], "config.yaml"),
             "--kid", "k1"], cwd=dirs[base], env=clean_env(), capture_output=True, text=True,
            timeout=60)
        check(generated.returncode == 0, "keys generate: " + generated.stderr.strip())
        for (issuer, d), p in zip(dirs.items(), (port, other_port)):
            write_config(os.path.join(d, "config.yaml"), d, p, issuer, keys_dir, "k1")
            servers.append(Server(binary, d, os.path.join(d, "config.yaml")))
        other_base = "http://127.0.0.1:%d" % other_port
        ready = all(s.wait_ready(b, 60) for s, b in zip(servers, (base, other_base)))
        check(ready, "both servers are ready")
        if not ready:
            return verdict()

        token = access_token(base, "node-verifier@example.com")
        code, out, _ = verify(work, base, token)
        claims = json.loads(out) if code == 0 else {}
        check(code == 0 and claims.get("iss") == base and claims.get("aud") == AUDIENCE
              and claims.get("sub", "").isdigit(),
              "the Node verifier (discovery, then jwks_uri) accepts the access token")

        code, _, err = verify(work, base, tampered(token))
        check(code == 1 and "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" in err,
              "it refuses the token with a changed signature")
        code, _, err = verify(work, base, token, audience="another-audience")
        check(code == 1 and "ERR_JWT_CLAIM_VALIDATION_FAILED" in err and "aud" in err,
              "it refuses a token for another audience")
        foreign = access_token(other_base, "node-verifier@example.com")
        code, _, err = verify(work, base, foreign)
        check(code == 1 and "ERR_JWT_CLAIM_VALIDATION_FAILED" in err and "iss" in err,
              "it refuses a token of another issuer signed with the same key")
        # The other server serves no discovery (its issuer is not its URL): no verifier.
        code, _, err = verify(work, other_base, foreign)
        check(code == 1 and "discovery: 404" in err,
              "no verifier from a server whose issuer is not its URL (discovery 404)")
    except Exception as e:  # noqa: BLE001 (an error is a failed test, with its text)
        check(False, "no exception: %s: %s" % (type(e).__name__, e))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
