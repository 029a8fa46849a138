-- wrk script, scenario "refresh": POST /api/refresh_token, every request consuming a
-- different pre-issued refresh token (a real rotation each time, never a grace retry).
-- Usage: wrk -tT ... -s refresh.lua URL -- TOKENFILE T
--   TOKENFILE: one clear token per line (written by bench_seed); T: wrk's -t, so each
--   thread takes every T-th line and no token is presented twice. A thread that runs
--   out stops itself; the count of such requests is reported as "exhausted".
local dir = os.getenv("BENCH_DIR") or debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "/common.lua")

local tokens, pos = {}, 0
tokens_used = 0

function init(args)
  local nthreads = tonumber(args[2] or "1")
  tokens = bench.load_tokens(assert(args[1], "token file argument missing"), id, nthreads)
end

function request()
  local req
  req, pos = bench.next_refresh(tokens, pos)
  return req
end
