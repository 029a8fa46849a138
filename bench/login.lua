-- wrk script, scenario "login": POST /api/login with a real user (created with
-- `authsvc user add`), so every request runs one argon2id verification with the
-- parameters of the server's config.
-- The credentials: $BENCH_EMAIL and $BENCH_PASSWORD.
local dir = os.getenv("BENCH_DIR") or debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "/common.lua")

wrk.method = "POST"
wrk.path = "/api/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}', bench.env("BENCH_EMAIL"),
                         bench.env("BENCH_PASSWORD"))
