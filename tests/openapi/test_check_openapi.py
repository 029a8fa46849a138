#!/usr/bin/env python3
"""scripts/check-openapi.py against crafted responses: it accepts what docs/openapi.yaml
describes and refuses each kind of drift (a member added or missing, an undocumented
status, a header or media type wrong, a JWT claim added, the served document changed)."""

import base64
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "check-openapi.py")
SPEC = os.path.join(ROOT, "docs", "openapi.yaml")

_loader = importlib.util.spec_from_file_location("check_openapi", SCRIPT)
check_openapi = importlib.util.module_from_spec(_loader)
_loader.loader.exec_module(check_openapi)


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


CLAIMS = {"iss": "authsvc", "aud": "authsvc-clients", "sub": "7", "iat": 1800000000,
          "exp": 1800000900, "jti": "abc", "sid": "fam"}


def jwt(claims=None):
    return ".".join([b64({"alg": "HS256", "typ": "JWT"}), b64(claims or CLAIMS), "sig"])


def record(method, path, status, body="", headers=None, content_type="application/json"):
    h = [["x-request-id", "rid-1"]]
    if content_type:
        h.append(["content-type", content_type])
    h += [[k.lower(), v] for k, v in (headers or {}).items()]
    if not isinstance(body, str):
        body = json.dumps(body)
    return {"method": method, "path": path, "status": status, "headers": h, "body": body,
            "test": "Crafted.Case"}


def token_pair(**extra):
    access = jwt()
    body = {"access_token": access, "token": access, "expires_in": 900,
            "refresh_expires_in": 1209600, "refresh_token": "r" * 43, "token_type": "Bearer"}
    body.update(extra)
    return body


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
USER = {"id": 1, "email": "a@example.com", "created_at": "2026-11-22T03:14:55Z"}


class CheckerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.spec = check_openapi.load_spec(SPEC)
        cls.checker = check_openapi.Checker(cls.spec)

    def problems(self, rec):
        return self.checker.check(rec)

    def assertAccepted(self, rec):
        self.assertEqual(self.problems(rec), [])

    def assertRefused(self, rec, fragment):
        problems = self.problems(rec)
        self.assertTrue(any(fragment in p for p in problems),
                        f"expected a mismatch containing {fragment!r}, got {problems}")

    # -- what the service answers today is accepted

    def test_accepts_documented_responses(self):
        self.assertAccepted(record("GET", "/healthz", 200, {"status": "ok"}))
        self.assertAccepted(record("POST", "/api/register", 201, USER))
        self.assertAccepted(record("POST", "/api/login", 200, token_pair(), NO_STORE))
        self.assertAccepted(record("POST", "/login", 200, token_pair(token=jwt()), NO_STORE))
        self.assertAccepted(record("POST", "/refresh-token", 401,
                                   {"error": "invalid_grant", "message": "Invalid token"},
                                   NO_STORE))
        self.assertAccepted(record("GET", "/api/me?x=1", 401,
                                   {"error": "missing_token", "message": "No token"},
                                   {"WWW-Authenticate": 'Bearer realm="authsvc"'}))
        self.assertAccepted(record("POST", "/api/register", 429,
                                   {"error": "too_many_requests", "message": "Slow down"},
                                   {"Retry-After": "12"}))
        self.assertAccepted(record("GET", "/metrics", 200, "# HELP x\nx 1\n", None,
                                   "text/plain; version=0.0.4"))
        self.assertAccepted(record("POST", "/api/logout", 204, "", None, "application/json"))

    def test_accepts_unrouted_answers(self):
        self.assertAccepted(record("GET", "/no-such-path", 404,
                                   {"error": "not_found", "message": "No resource"}))
        self.assertAccepted(record("PUT", "/api/me", 405,
                                   {"error": "method_not_allowed", "message": "No"},
                                   {"Allow": "GET, DELETE"}))

    def test_path_templates_match(self):
        self.assertAccepted(record("DELETE", "/api/sessions/abc-123", 204, ""))
        self.assertAccepted(record("DELETE", "/api/sessions/abc-123", 404,
                                   {"error": "not_found", "message": "No such session"}))
        self.assertAccepted(record("GET", "/api/sessions/abc/extra", 404,
                                   {"error": "not_found", "message": "No resource"}))

    def test_access_token_refresh_answer(self):
        body = {"access_token": jwt(dict(CLAIMS, roles=["admin"])), "token": "t",
                "token_type": "Bearer", "expires_in": 900}
        self.assertAccepted(record("POST", "/api/refresh_token", 200, body, NO_STORE))

    # -- each kind of drift is refused

    def test_refuses_an_extra_member(self):
        self.assertRefused(record("GET", "/api/me", 200, dict(USER, roles=["admin"])),
                           "Additional properties are not allowed ('roles' was unexpected)")

    def test_refuses_a_missing_member(self):
        user = {k: v for k, v in USER.items() if k != "created_at"}
        self.assertRefused(record("POST", "/api/register", 201, user),
                           "'created_at' is a required property")
        pair = token_pair()
        del pair["refresh_token"]
        self.assertRefused(record("POST", "/api/login", 200, pair, NO_STORE), "(body)")

    def test_refuses_a_wrong_type_or_format(self):
        self.assertRefused(record("POST", "/api/register", 201, dict(USER, id="1")),
                           "id: '1' is not of type 'integer'")
        self.assertRefused(record("POST", "/api/register", 201, dict(USER, created_at="today")),
                           "is not a 'date-time'")

    def test_refuses_an_undocumented_status(self):
        self.assertRefused(record("GET", "/healthz", 418, {"error": "x", "message": "y"}),
                           "status 418 is not documented")
        self.assertRefused(record("POST", "/api/logout", 401,
                                  {"error": "invalid_grant", "message": "x"}),
                           "status 401 is not documented")
        self.assertRefused(record("GET", "/no-such-path", 200, {"status": "ok"}),
                           "status 200 is not documented")
        # A documented operation answered as if it did not exist.
        self.assertRefused(record("GET", "/api/me", 405,
                                  {"error": "method_not_allowed", "message": "x"},
                                  {"Allow": "POST"}),
                           "status 405 is not documented")

    def test_refuses_the_wrong_error_code_for_a_status(self):
        self.assertRefused(record("GET", "/api/me", 401,
                                  {"error": "invalid_credentials", "message": "x"},
                                  {"WWW-Authenticate": 'Bearer realm="authsvc"'}),
                           "is not one of ['missing_token', 'invalid_token']")
        self.assertRefused(record("GET", "/healthz", 500, {"error": "internal_error"}),
                           "'message' is a required property")

    def test_refuses_missing_or_wrong_headers(self):
        rec = record("POST", "/api/login", 200, token_pair(), NO_STORE)
        rec["headers"] = [h for h in rec["headers"] if h[0] != "x-request-id"]
        self.assertRefused(rec, "required header X-Request-Id is missing")
        self.assertRefused(record("POST", "/api/login", 200, token_pair()),
                           "required header Cache-Control is missing")
        self.assertRefused(record("GET", "/api/me", 401,
                                  {"error": "missing_token", "message": "x"}),
                           "required header WWW-Authenticate is missing")
        self.assertRefused(record("POST", "/api/register", 429,
                                  {"error": "too_many_requests", "message": "x"},
                                  {"Retry-After": "soon"}),
                           "header Retry-After: 'soon' is not an integer")
        self.assertRefused(record("PUT", "/api/me", 405,
                                  {"error": "method_not_allowed", "message": "x"}),
                           "required header Allow is missing")

    def test_refuses_a_wrong_content_type_or_body(self):
        self.assertRefused(record("GET", "/healthz", 200, {"status": "ok"}, None, "text/html"),
                           "Content-Type 'text/html' is not documented")
        self.assertRefused(record("GET", "/healthz", 200, {"status": "ok"}, None, None),
                           "no Content-Type header")
        self.assertRefused(record("GET", "/healthz", 200, "{not json"), "body is not JSON")
        self.assertRefused(record("POST", "/api/logout", 204, "{}"),
                           "a body where none is documented")

    def test_refuses_a_jwt_whose_claims_changed(self):
        body = token_pair(access_token=jwt(dict(CLAIMS, email="a@example.com")))
        self.assertRefused(record("POST", "/api/login", 200, body, NO_STORE),
                           "JWT claims (claims): Additional properties are not allowed")
        body = token_pair(access_token="opaque")
        self.assertRefused(record("POST", "/api/login", 200, body, NO_STORE), "JWT:")

    def test_served_document_must_be_the_document(self):
        headers = {"Cache-Control": "public, max-age=3600"}
        self.assertAccepted(record("GET", "/openapi.json", 200, self.spec, headers))
        changed = json.loads(json.dumps(self.spec))
        changed["info"]["version"] = 0.1  # a string that became a number
        self.assertRefused(record("GET", "/openapi.json", 200, changed, headers),
                           "is not the OpenAPI document")

    # -- the command line: exit status 1 on a mismatch or an empty log, 0 when all match

    def run_checker(self, records):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
        try:
            return subprocess.run([sys.executable, SCRIPT, "--spec", SPEC, f.name],
                                  capture_output=True, text=True, check=False)
        finally:
            os.unlink(f.name)

    def test_exit_status(self):
        good = record("GET", "/healthz", 200, {"status": "ok"})
        bad = record("GET", "/healthz", 200, {"status": "ok", "extra": 1})
        ok = self.run_checker([good, good])
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("GET    /healthz                     seen 200 of 200,413,500,503", ok.stdout)
        failed = self.run_checker([good, bad])
        self.assertEqual(failed.returncode, 1, failed.stdout + failed.stderr)
        self.assertIn("MISMATCH GET /healthz -> 200", failed.stdout)
        self.assertEqual(self.run_checker([]).returncode, 1)


if __name__ == "__main__":
    unittest.main(verbosity=1)
