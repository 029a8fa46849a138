-- wrk script, scenario "mixed": per request, at random, 90% GET /api/protected, 9%
-- POST /api/refresh_token (each with a different seeded token, as refresh.lua), 1%
-- POST /api/login.
-- Usage: wrk -tT ... -s mixed.lua URL -- TOKENFILE T
-- Environment: BENCH_ACCESS_TOKEN (or BENCH_ACCESS_TOKEN_FILE), BENCH_EMAIL, BENCH_PASSWORD.
local dir = os.getenv("BENCH_DIR") or debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "/common.lua")

local access = bench.access_token()
local protected_req, login_req
local tokens, pos = {}, 0
tokens_used = 0

function init(args)
  local nthreads = tonumber(args[2] or "1")
  tokens = bench.load_tokens(assert(args[1], "token file argument missing"), id, nthreads)
  math.randomseed(os.time() * 100 + id)
  protected_req = wrk.format("GET", "/api/protected", { ["Authorization"] = "Bearer " .. access })
  login_req = wrk.format("POST", "/api/login", bench.json_headers(),
                         string.format('{"email":"%s","password":"%s"}', bench.env("BENCH_EMAIL"),
                                       bench.env("BENCH_PASSWORD")))
end

function request()
  local r = math.random()
  if r < 0.90 then return protected_req end
  if r >= 0.99 then return login_req end
  local req
  req, pos = bench.next_refresh(tokens, pos)
  return req
end
