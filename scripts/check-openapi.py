#!/usr/bin/env python3
"""Validates recorded HTTP responses against docs/openapi.yaml.

Usage: check-openapi.py [--spec FILE (default: docs/openapi.yaml beside scripts/)] LOG...

Each LOG holds JSON lines written by the integration tests' HTTP client when
AUTHSVC_TEST_RESPONSE_LOG is set: {"method", "path", "status", "headers": [[name, value]...],
"body", "test"}. Every response must match the document:
  - its path (templates like /api/sessions/{id} included) and method name an operation;
    an unknown path or method is checked against `x-authsvc-unrouted` (404 / 405);
  - its status is one the operation documents (no `default` is used);
  - every required response header is present, and every documented header present
    matches its schema (integers parsed first);
  - its Content-Type is one the response documents (no body where none is documented), and
    the body validates against that media type's schema (JSON Schema 2020-12, `date-time`
    formats checked); a JWT whose schema says `contentMediaType: application/jwt` has its
    claims validated against the schema's `contentSchema` too (JSON Schema 2020-12 leaves
    the content keywords unchecked); a response marked `x-authsvc-body-is-this-document` must be the document.
Prints each mismatch (identical ones once, with a count) and, as information only, which
documented operations and statuses the log exercised. Exit status: 0 when every response
matches, 1 on a mismatch or an empty log, 2 on bad usage.

Needs python3-yaml and python3-jsonschema (Debian 12: jsonschema 4.10; newer ones work too).
"""

import argparse
import base64
import collections
import datetime
import json
import os
import re
import sys

import jsonschema
import jsonschema.exceptions
import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def load_spec(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _pointer_escape(token):
    return token.replace("~", "~0").replace("/", "~1")


def _pointer_get(doc, pointer):
    node = doc
    for raw in pointer.lstrip("/").split("/") if pointer not in ("", "/") else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _date_time(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _media_type(value):
    """'Text/Plain ; version=0.0.4' -> ('text/plain', 'text/plain; version=0.0.4')."""
    parts = [p.strip() for p in value.lower().split(";") if p.strip()]
    if not parts:
        return "", ""
    return parts[0], "; ".join(parts)


def _describe(error):
    """One line for a validation error; the same line for the same drift in any response
    (a oneOf/anyOf error names the closest alternative's error instead of the instance)."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        where = "/".join(str(p) for p in best.absolute_path) or "(body)"
        return f"no {error.validator} alternative matches; closest: {where}: " \
               f"{best.message[:200]}"
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message[:200]}"


def _decode_jwt_payload(token):
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS (three dot-separated parts)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))


class Checker:
    """Checks records against one OpenAPI document. Not thread-safe."""

    def __init__(self, spec):
        self.spec = spec
        self.format_checker = jsonschema.FormatChecker(formats=())
        self.format_checker.checks("date-time")(_date_time)
        self.validators = {}
        self.templates = []  # (regex, template) for paths with {parameters}
        for template in spec.get("paths", {}):
            if "{" in template:
                pattern = "".join(
                    "[^/]+" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{[^}]+\})", template))
                self.templates.append((re.compile("^" + pattern + "$"), template))
        self.seen = collections.Counter()  # (method, template, status)

    # -- references

    def deref(self, node, pointer):
        """Follows local $refs; returns (object, its JSON pointer)."""
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise ValueError("only local references are supported: " + ref)
            pointer = ref[1:]
            node = _pointer_get(self.spec, pointer)
            hops += 1
            if hops > 32:
                raise ValueError("reference loop at " + ref)
        return node, pointer

    def validator(self, pointer):
        """A JSON Schema validator for the schema at `pointer`, resolving refs in the document."""
        v = self.validators.get(pointer)
        if v is None:
            # The document itself is the root resource (its other members are not keywords),
            # so "#/components/schemas/X" resolves the same with every jsonschema version.
            root = dict(self.spec)
            root["$ref"] = "#" + pointer
            v = jsonschema.Draft202012Validator(root, format_checker=self.format_checker)
            self.validators[pointer] = v
        return v

    # -- matching

    def match_path(self, path):
        paths = self.spec.get("paths", {})
        if path in paths:
            return path
        for regex, template in self.templates:
            if regex.match(path):
                return template
        return None

    def response_for(self, method, path, status):
        """(response object, its pointer, label, operation key) or an error string."""
        template = self.match_path(path)
        status_key = str(status)
        if template is None:
            pointer = "/x-authsvc-unrouted/unknownPath"
            label = f"{method} {path} (no documented path)"
            key = None
        else:
            item, item_ptr = self.deref(self.spec["paths"][template],
                                        "/paths/" + _pointer_escape(template))
            if method.lower() in item:
                pointer = f"{item_ptr}/{method.lower()}/responses"
                label = f"{method} {template}"
                key = (method, template)
            else:
                pointer = "/x-authsvc-unrouted/unknownMethod"
                label = f"{method} {template} (method not documented)"
                key = None
        responses = _pointer_get(self.spec, pointer)
        if status_key not in responses:
            return f"{label}: status {status} is not documented " \
                   f"(documented: {', '.join(sorted(responses))})"
        response, rptr = self.deref(responses[status_key],
                                    pointer + "/" + _pointer_escape(status_key))
        return response, rptr, f"{label} -> {status}", key

    # -- checks

    def check(self, record):
        """The mismatches of one record, as a list of strings."""
        method = record.get("method", "")
        path = record.get("path", "").split("?", 1)[0]
        status = record.get("status")
        found = self.response_for(method, path, status)
        if isinstance(found, str):
            return [found]
        response, rptr, label, key = found
        if key:
            self.seen[(key[0], key[1], str(status))] += 1
        headers = {}
        for name, value in record.get("headers", []):
            headers.setdefault(name.lower(), value)
        problems = self.check_headers(response, rptr, headers)
        problems += self.check_body(response, rptr, headers, record.get("body", ""))
        return [f"{label}: {p}" for p in problems]

    def check_headers(self, response, rptr, headers):
        problems = []
        for name, header in response.get("headers", {}).items():
            if name.lower() == "content-type":
                continue  # OpenAPI: described by `content`
            header, hptr = self.deref(header, f"{rptr}/headers/{_pointer_escape(name)}")
            value = headers.get(name.lower())
            if value is None:
                if header.get("required", False):
                    problems.append(f"required header {name} is missing")
                continue
            schema, sptr = self.deref(header.get("schema", {}), hptr + "/schema")
            instance = value
            if schema.get("type") == "integer":
                try:
                    instance = int(value)
                except ValueError:
                    problems.append(f"header {name}: {value!r} is not an integer")
                    continue
            for error in self.validator(sptr).iter_errors(instance):
                problems.append(f"header {name}: {error.message[:200]}")
        return problems

    def check_body(self, response, rptr, headers, body):
        content = response.get("content")
        if not content:
            return [] if body == "" else [f"a body where none is documented: {body[:200]!r}"]
        ctype = headers.get("content-type")
        if ctype is None:
            return ["no Content-Type header"]
        bare, full = _media_type(ctype)
        media = None
        for key in content:
            k_bare, k_full = _media_type(key)
            if k_full == full:
                media = key
                break
        if media is None:
            media = next((k for k in content if _media_type(k)[0] == bare), None)
        if media is None:
            return [f"Content-Type {ctype!r} is not documented ({', '.join(content)})"]
        mptr = f"{rptr}/content/{_pointer_escape(media)}"
        if bare == "application/json" or bare.endswith("+json"):
            try:
                instance = json.loads(body)
            except ValueError as e:
                return [f"body is not JSON ({e}): {body[:200]!r}"]
        else:
            instance = body
        if content[media].get("x-authsvc-body-is-this-document"):
            if instance != self.spec:
                return ["the body is not the OpenAPI document the checker read "
                        "(a type or value changed in the YAML-to-JSON conversion?)"]
        if "schema" not in content[media]:
            return []
        _, sptr = self.deref(content[media]["schema"], mptr + "/schema")
        problems = []
        for error in self.validator(sptr).iter_errors(instance):
            problems.append(_describe(error))
        if not problems:
            problems += self.check_jwts(content[media]["schema"], mptr + "/schema", instance)
        return problems

    def check_jwts(self, schema, pointer, instance):
        """Claims of the JWTs in `instance` whose schema is an application/jwt with a
        contentSchema."""
        problems = []
        schema, pointer = self.deref(schema, pointer)
        if not isinstance(schema, dict):
            return problems
        claims = schema.get("contentSchema")
        if (schema.get("contentMediaType") == "application/jwt" and claims is not None
                and isinstance(instance, str)):
            _, cptr = self.deref(claims, pointer + "/contentSchema")
            try:
                payload = _decode_jwt_payload(instance)
            except (ValueError, UnicodeDecodeError) as e:
                return [f"JWT: {e}"]
            for error in self.validator(cptr).iter_errors(payload):
                problems.append("JWT claims " + _describe(error).replace("(body)", "(claims)"))
        if isinstance(instance, dict):
            for name, sub in schema.get("properties", {}).items():
                if name in instance:
                    problems += self.check_jwts(
                        sub, f"{pointer}/properties/{_pointer_escape(name)}", instance[name])
        for keyword in ("allOf", "oneOf", "anyOf"):
            for i, sub in enumerate(schema.get(keyword, [])):
                sptr = f"{pointer}/{keyword}/{i}"
                _, rptr = self.deref(sub, sptr)
                if keyword == "allOf" or self.validator(rptr).is_valid(instance):
                    problems += self.check_jwts(sub, sptr, instance)
        return problems

    # -- coverage (information only)

    def coverage(self):
        lines = []
        for template, item in self.spec.get("paths", {}).items():
            item, _ = self.deref(item, "/paths/" + _pointer_escape(template))
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                documented = sorted(item[method].get("responses", {}))
                seen = [s for s in documented if self.seen[(method.upper(), template, s)]]
                mark = "-" if not seen else ("+" if len(seen) == len(documented) else "~")
                lines.append(f"  {mark} {method.upper():6} {template:28} seen {','.join(seen) or '-'}"
                             f" of {','.join(documented)}")
        return lines


def read_records(paths):
    records, problems = [], []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        records.append(json.loads(line))
                    except ValueError as e:
                        problems.append(f"{path}:{n}: not a JSON line ({e})")
        except FileNotFoundError:
            problems.append(f"{path}: no such file (was AUTHSVC_TEST_RESPONSE_LOG set "
                            "for the integration tests?)")
    return records, problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs", "openapi.yaml"))
    parser.add_argument("--quiet", action="store_true", help="no coverage listing")
    parser.add_argument("logs", nargs="+")
    args = parser.parse_args(argv)
    checker = Checker(load_spec(args.spec))
    records, problems = read_records(args.logs)
    mismatches = collections.Counter(problems)
    examples = {}
    for record in records:
        for problem in checker.check(record):
            mismatches[problem] += 1
            examples.setdefault(problem, record)

    if not args.quiet:
        print("coverage (information): + every documented status seen, ~ some, - none")
        print("\n".join(checker.coverage()))
    print(f"{len(records)} responses checked against {args.spec}")
    if not records and not problems:
        mismatches["no responses recorded"] += 1
    for problem, count in sorted(mismatches.items()):
        times = f" ({count} responses)" if count > 1 else ""
        print(f"MISMATCH {problem}{times}")
        record = examples.get(problem)
        if record:
            print(f"    first in test {record.get('test', '?')}: "
                  f"{json.dumps(record)[:600]}")
    print(f"openapi check: {len(mismatches)} distinct mismatch(es)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
