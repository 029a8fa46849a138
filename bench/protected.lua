-- wrk script, scenario "protected": GET /api/protected with a valid access token over
-- keep-alive connections (plain wrk: no Connection header).
-- The token: $BENCH_ACCESS_TOKEN, or the first line of the file $BENCH_ACCESS_TOKEN_FILE.
local dir = os.getenv("BENCH_DIR") or debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "/common.lua")

local token = bench.access_token()
wrk.method = "GET"
wrk.path = "/api/protected"
wrk.headers["Authorization"] = "Bearer " .. token
