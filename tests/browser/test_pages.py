#!/usr/bin/python3
"""The pages of links in mails, in a real browser (Debian's chromium, chromium-driver and
python3-selenium, headless).

Usage: test_pages.py AUTHSVC_BINARY

Starts authsvc on SQLite with the file mail transport and email verification optional,
registers a user (whose verification mail arrives as an .eml file), asks for a password
reset link, then in headless Chromium: opens /account/verify?token=... (the page says the
address is confirmed), opens /account/reset?token=... and types a new password twice, clicks
the button, reads the answer; checks the login with the new password, that the token is
single use, that the pages' headers are strict (CSP, Referrer-Policy, X-Frame-Options) and
that the browser made no request to another origin. Exit 0 when every check passed.
"""
import email
import glob
import json
import os
import re
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from authsvc_process import Server, check, failures, free_port, request, verdict  # noqa: E402

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def wait_for_mail(maildir, subject_part, seen, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted(glob.glob(os.path.join(maildir, "*.eml"))):
            if path in seen:
                continue
            with open(path, "rb") as f:
                msg = email.message_from_bytes(f.read())
            subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
            if subject_part in subject:
                seen.add(path)
                return msg.get_payload(decode=True).decode("utf-8")
        time.sleep(0.1)
    return ""


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="authsvc-pages-")
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write("server: {host: 127.0.0.1, port: %d}\n" % port)
        f.write("database: {sqlite: {path: %s}}\n" % json.dumps(os.path.join(work, "a.db")))
        f.write("jwt: {secret: %s}\n" % json.dumps("x" * 48))
        f.write("refresh: {secret: %s}\n" % json.dumps("r" * 48))
        f.write("auth: {email_verification: optional, argon2id: {memory_kib: 64, iterations: 1}}\n")
        f.write("mail: {transport: file, file_dir: %s}\n" % json.dumps(os.path.join(work, "mail")))
    server = Server(binary, work, config)
    driver = None
    try:
        server.wait_ready(base, 30)
        maildir = os.path.join(work, "mail")
        seen = set()
        addr = "pages@example.com"
        status, _, _ = request(base, "POST", "/api/register", {"email": addr, "password": PASSWORD})
        check(status == 201, "register")
        verify_mail = wait_for_mail(maildir, "Confirm your email", seen)
        verify_link = re.search(r"http://\S+/account/verify\?token=[A-Za-z0-9_-]{43}", verify_mail)
        check(verify_link is not None, "a verification link in the mail")
        status, _, _ = request(base, "POST", "/api/password/forgot", {"email": addr})
        check(status == 202, "forgot")
        reset_mail = wait_for_mail(maildir, "Reset your password", seen)
        reset_link = re.search(r"http://\S+/account/reset\?token=[A-Za-z0-9_-]{43}", reset_mail)
        check(reset_link is not None, "a reset link in the mail")
        if failures:
            return 1

        for path in ("/account/reset", "/account/verify", "/account/pages.js"):
            status, headers, _ = request(base, "GET", path)
            h = {k.lower(): v for k, v in headers.items()}
            check(status == 200, path + " 200")
            csp = h.get("content-security-policy", "")
            check("default-src 'none'" in csp and "script-src 'self'" in csp
                  and "frame-ancestors 'none'" in csp and "unsafe" not in csp, path + " strict CSP")
            check(h.get("referrer-policy") == "no-referrer", path + " Referrer-Policy no-referrer")
            check(h.get("x-frame-options") == "DENY", path + " X-Frame-Options DENY")

        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--user-data-dir=" + os.path.join(work, "chrome")):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)
        wait = WebDriverWait(driver, 30)

        # The verification page confirms on its own.
        driver.get(verify_link.group(0))
        wait.until(lambda d: "confirmed" in d.find_element(By.ID, "status").text
                   or "invalid" in d.find_element(By.ID, "status").text)
        check("confirmed" in driver.find_element(By.ID, "status").text,
              "the verify page says the address is confirmed")
        check("token=" not in driver.current_url, "the token left the address bar")

        # The reset page: two different passwords first, then the same twice.
        driver.get(reset_link.group(0))
        wait.until(EC.element_to_be_clickable((By.ID, "submit")))
        check("token=" not in driver.current_url, "the reset token left the address bar")
        driver.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
        driver.find_element(By.ID, "confirm").send_keys(NEW_PASSWORD + "x")
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: "differ" in d.find_element(By.ID, "status").text)
        check(True, "the page refuses two different passwords")
        driver.find_element(By.ID, "confirm").clear()
        driver.find_element(By.ID, "confirm").send_keys(NEW_PASSWORD)
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: "changed" in d.find_element(By.ID, "status").text
                   or "invalid" in d.find_element(By.ID, "status").text)
        check("password is changed" in driver.find_element(By.ID, "status").text,
              "the reset page says the password is changed")

        # Every request the browser made went to this origin.
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
            ".concat([location.href]);")
        check(all(u.startswith(base + "/") for u in urls), "no request to another origin: %s" % urls)

        # Opening the used link again: the page says so.
        driver.get(reset_link.group(0))
        wait.until(EC.element_to_be_clickable((By.ID, "submit")))
        driver.find_element(By.ID, "password").send_keys("yet another passphrase")
        driver.find_element(By.ID, "confirm").send_keys("yet another passphrase")
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: "invalid" in d.find_element(By.ID, "status").text)
        check(True, "a used link is refused on the page")

        status, _, body = request(base, "POST", "/api/login", {"email": addr, "password": NEW_PASSWORD})
        check(status == 200, "login with the new password")
        access = json.loads(body).get("access_token", "") if status == 200 else ""
        status, _, _ = request(base, "POST", "/api/login", {"email": addr, "password": PASSWORD})
        check(status == 401, "the old password is refused")
        status, _, body = request(base, "GET", "/api/me", token=access)
        check(status == 200 and json.loads(body).get("email_verified") is True,
              "GET /api/me: email_verified true")
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
