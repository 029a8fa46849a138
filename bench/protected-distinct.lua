-- wrk script, scenario "protected, distinct tokens": GET /api/protected, each request with
-- the next token of $BENCH_ACCESS_TOKEN_FILE (this thread's share, cycled), so that no
-- request is answered from the verified-token cache while the file holds more tokens
-- than the cache (4096).
local dir = os.getenv("BENCH_DIR") or debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "/common.lua")

local tokens, next_token = nil, 1

function init(args)
  tokens = bench.load_tokens(bench.env("BENCH_ACCESS_TOKEN_FILE"), id, tonumber(args[1] or "1"))
end

function request()
  local t = tokens[next_token]
  next_token = next_token % #tokens + 1
  return wrk.format("GET", "/api/protected", { ["Authorization"] = "Bearer " .. t })
end
