#!/usr/bin/python3
"""POST /oauth/token spoken by an OAuth 2.0 client library none of us wrote: Debian's
python3-requests-oauthlib (OAuth2Session with oauthlib's LegacyApplicationClient, the
resource owner password credentials grant of RFC 6749 4.3).

Usage: test_oauth_client.py AUTHSVC_BINARY

Starts authsvc on SQLite (ES256, jwt.issuer = server.public_url), registers a user over the
JSON API, then with the library:
fetch_token by password, a request with the access token (OAuth2Session adds the Bearer
header), refresh_token (rotation: a new refresh token), the old refresh token refused with
invalid_grant (oauthlib raises InvalidGrantError), and a wrong password refused the same
way; oauthlib's revocation request (RFC 7009) ends a session. Then discovery (RFC 8414): the metadata document, and PyJWT's PyJWKClient (Debian's
python3-jwt) reading the jwks_uri it names verifies an access token. Exit 0 when every
check passed.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from authsvc_process import Server, check, clean_env, free_port, request, verdict  # noqa: E402

# oauthlib refuses http:// unless told; the test speaks to 127.0.0.1.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

from oauthlib.oauth2 import LegacyApplicationClient  # noqa: E402
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError  # noqa: E402
from requests_oauthlib import OAuth2Session  # noqa: E402
import jwt  # noqa: E402  (PyJWT)

PASSWORD = "correct horse+battery %20"


def raises(exception, fn):
    try:
        fn()
    except exception:
        return True
    except Exception as e:  # noqa: BLE001 (reported as a failed check)
        print("     unexpected %s: %s" % (type(e).__name__, e))
        return False
    return False


def flow(base):
    addr = "oauth-client@example.com"
    status, _, _ = request(base, "POST", "/api/register", {"email": addr, "password": PASSWORD})
    check(status == 201, "register")
    token_url = base + "/oauth/token"

    session = OAuth2Session(client=LegacyApplicationClient(client_id="mobile"))
    token = session.fetch_token(token_url=token_url, username=addr, password=PASSWORD)
    check(token.get("token_type") == "Bearer", "fetch_token by password: token_type Bearer")
    check(isinstance(token.get("access_token"), str) and token["access_token"].count(".") == 2,
          "fetch_token: an access token (a JWT)")
    check(isinstance(token.get("refresh_token"), str), "fetch_token: a refresh token")
    check(isinstance(token.get("expires_in"), int) and token["expires_in"] > 0,
          "fetch_token: expires_in")
    me = session.get(base + "/api/me", timeout=15)
    check(me.status_code == 200 and me.json().get("email") == addr,
          "GET /api/me with the library's Bearer header")

    first_refresh = token["refresh_token"]
    # oauth.clients lists clients, so every request names one: refresh_token() sends no
    # client authentication of its own, the id goes in the form.
    renewed = session.refresh_token(token_url, refresh_token=first_refresh, client_id="mobile")
    check(renewed.get("refresh_token") not in (None, first_refresh),
          "refresh_token: rotated (a new refresh token)")
    check(renewed.get("access_token") not in (None, token["access_token"]),
          "refresh_token: a new access token")
    me = session.get(base + "/api/me", timeout=15)
    check(me.status_code == 200, "GET /api/me with the renewed access token")

    # Past the retry grace (set to 0 s in the config), the used token is refused, and its
    # family with it (reuse detection).
    check(raises(InvalidGrantError,
                 lambda: OAuth2Session(client=LegacyApplicationClient(client_id="mobile"))
                 .refresh_token(token_url, refresh_token=first_refresh, client_id="mobile")),
          "the used refresh token: InvalidGrantError")
    check(raises(InvalidGrantError,
                 lambda: OAuth2Session(client=LegacyApplicationClient(client_id="mobile"))
                 .refresh_token(token_url, refresh_token=renewed["refresh_token"],
                                client_id="mobile")),
          "its successor after the reuse: InvalidGrantError (family revoked)")
    check(raises(InvalidGrantError,
                 lambda: OAuth2Session(client=LegacyApplicationClient(client_id="mobile"))
                 .fetch_token(token_url=token_url, username=addr, password="wrong password")),
          "a wrong password: InvalidGrantError")

    # RFC 7009 revocation as oauthlib prepares it (token and token_type_hint in a form; the
    # client id added to it, as the token requests do): the refresh token's family ends.
    client = LegacyApplicationClient(client_id="mobile")
    session = OAuth2Session(client=client)
    token = session.fetch_token(token_url=token_url, username=addr, password=PASSWORD)
    url, headers, body = client.prepare_token_revocation_request(
        base + "/oauth/revoke", token["refresh_token"], token_type_hint="refresh_token",
        client_id="mobile")
    revoked = session.post(url, data=body, headers=headers, timeout=15)
    check(revoked.status_code == 200 and revoked.json() == {},
          "revocation prepared by oauthlib: 200 {}")
    check(raises(InvalidGrantError,
                 lambda: session.refresh_token(token_url, refresh_token=token["refresh_token"],
                                               client_id="mobile")),
          "the revoked refresh token: InvalidGrantError")


def discovery(base):
    """RFC 8414 metadata, then PyJWT's PyJWKClient on the jwks_uri it names."""
    status, _, body = request(base, "GET", "/.well-known/oauth-authorization-server")
    check(status == 200, "GET /.well-known/oauth-authorization-server")
    meta = json.loads(body)
    check(meta.get("issuer") == base, "metadata: issuer is the public URL")
    check(meta.get("token_endpoint") == base + "/oauth/token", "metadata: token_endpoint")
    status, _, body = request(base, "GET", "/.well-known/openid-configuration")
    check(status == 200 and json.loads(body) == meta, "openid-configuration: the same document")

    session = OAuth2Session(client=LegacyApplicationClient(client_id="mobile"))
    token = session.fetch_token(token_url=meta["token_endpoint"],
                                username="oauth-client@example.com", password=PASSWORD)
    access = token["access_token"]
    signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(access)
    claims = jwt.decode(access, signing_key.key, algorithms=["ES256"],
                        audience="authsvc-clients", issuer=meta["issuer"])
    check(claims.get("iss") == base and claims.get("sid"),
          "PyJWKClient: the access token verifies with the key of jwks_uri")


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="authsvc-oauth-")
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    config = os.path.join(work, "config.yaml")
    keys_dir = os.path.join(work, "keys")

    def write_config(signing_kid):
        with open(config, "w") as f:
            # Discovery is served when the issuer is the public URL.
            f.write("server: {host: 127.0.0.1, port: %d, public_url: %s}\n" % (port, base))
            f.write("database: {sqlite: {path: %s}}\n" % json.dumps(os.path.join(work, "a.db")))
            f.write("jwt: {issuer: %s, keys_dir: %s%s}\n" % (
                base, json.dumps(keys_dir),
                ", signing_kid: " + signing_kid if signing_kid else ""))
            f.write("refresh: {secret: %s, reuse_grace: 0s}\n" % json.dumps("r" * 48))
            f.write("auth: {argon2id: {memory_kib: 64, iterations: 1}}\n")
            # A listed public client: the library sends its id by HTTP Basic, no secret.
            f.write("oauth: {clients: [{id: mobile}]}\n")

    env = clean_env()
    # An ES256 key, so that the JWKS has a key for PyJWT to fetch.
    write_config(None)
    generated = subprocess.run([binary, "keys", "generate", "--config", config, "--kid", "k1"],
                               cwd=work, env=env, capture_output=True, text=True, timeout=60)
    check(generated.returncode == 0, "keys generate: " + generated.stderr.strip())
    write_config("k1")
    server = Server(binary, work, config)
    try:
        ready = server.wait_ready(base, 60)
        check(ready, "the server is ready")
        if ready:
            flow(base)
            discovery(base)
    except Exception as e:  # noqa: BLE001 (a library error is a failed test, with its text)
        check(False, "no exception: %s: %s" % (type(e).__name__, e))
    finally:
        server.stop()
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
