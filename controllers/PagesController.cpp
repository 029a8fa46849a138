#include "controllers/PagesController.h"

namespace authsvc::controllers {
namespace {

constexpr const char* kResetPage = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Choose a new password</title>
<script src="/account/pages.js" defer></script>
</head>
<body data-page="reset">
<main>
<h1>Choose a new password</h1>
<form id="reset" novalidate>
<p><label for="password">New password</label><br>
<input id="password" name="password" type="password" autocomplete="new-password" required></p>
<p><label for="confirm">The same again</label><br>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required></p>
<p><button id="submit" type="submit">Set the new password</button></p>
</form>
<p id="status" role="status" aria-live="polite"></p>
</main>
</body>
</html>
)";

constexpr const char* kVerifyPage = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Confirm your email address</title>
<script src="/account/pages.js" defer></script>
</head>
<body data-page="verify">
<main>
<h1>Confirm your email address</h1>
<p id="status" role="status" aria-live="polite">Confirming…</p>
</main>
</body>
</html>
)";

// The token is read from the query once, dropped from the address bar, and sent only in
// the POST to this origin's API.
constexpr const char* kScript = R"('use strict';
(function () {
  var token = new URLSearchParams(window.location.search).get('token') || '';
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, '', window.location.pathname);
  }
  var status = document.getElementById('status');
  function say(text) { status.textContent = text; }
  function post(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      cache: 'no-store'
    }).then(function (r) {
      return r.text().then(function (t) {
        var j = {};
        try { j = t ? JSON.parse(t) : {}; } catch (e) { j = {}; }
        return { status: r.status, body: j };
      });
    });
  }
  function failed(r) {
    if (r.body && r.body.error === 'invalid_grant') {
      return 'This link is invalid, expired or was already used. Ask for a new one.';
    }
    if (r.body && r.body.error === 'email_taken') {
      return 'Another account uses this address now.';
    }
    return (r.body && r.body.message) || 'Something went wrong. Please try again later.';
  }
  if (!token) { say('This link has no token. Open the link from the mail again.'); }
  if (document.body.dataset.page === 'verify') {
    if (!token) return;
    post('/api/email/verify', { token: token }).then(function (r) {
      say(r.status === 200 ? 'Your email address is confirmed. You can close this page.' : failed(r));
    }, function () { say('The service cannot be reached. Please try again later.'); });
    return;
  }
  var form = document.getElementById('reset');
  var button = document.getElementById('submit');
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var password = document.getElementById('password').value;
    if (password !== document.getElementById('confirm').value) {
      say('The two passwords differ.');
      return;
    }
    button.disabled = true;
    say('Setting the new password…');
    post('/api/password/reset', { token: token, new_password: password }).then(function (r) {
      if (r.status === 204) {
        form.hidden = true;
        say('Your password is changed. Every session was signed out: sign in again with the new password.');
      } else {
        button.disabled = false;
        say(failed(r));
      }
    }, function () {
      button.disabled = false;
      say('The service cannot be reached. Please try again later.');
    });
  });
})();
)";

HttpResponse page(const char* body, std::string_view contentType) {
    HttpResponse r;
    r.body = body;
    r.contentType = contentType;
    r.header("Content-Security-Policy", PagesController::kContentSecurityPolicy);
    r.header("Referrer-Policy", "no-referrer");
    r.header("X-Frame-Options", "DENY");
    r.header("X-Content-Type-Options", "nosniff");
    r.header("Cache-Control", "no-store");
    return r;
}

}  // namespace

HttpResponse PagesController::resetPage(const HttpRequest& /*req*/) {
    return page(kResetPage, "text/html; charset=utf-8");
}

HttpResponse PagesController::verifyPage(const HttpRequest& /*req*/) {
    return page(kVerifyPage, "text/html; charset=utf-8");
}

HttpResponse PagesController::script(const HttpRequest& /*req*/) {
    return page(kScript, "text/javascript; charset=utf-8");
}

}  // namespace authsvc::controllers
