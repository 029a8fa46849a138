-- wrk script: POST /api/refresh_token in chains, every request presenting the token the
-- previous answer of its chain returned (a real rotation each time, never a retry), so a
-- few hundred logins feed a run of any length (no bench_seed). Used by bench/pgbouncer.sh.
-- Usage: wrk -tT -cC ... -s refresh-chain.lua URL -- TOKENFILE T
--   TOKENFILE: one refresh token per line; T: wrk's -t (each thread takes every T-th line).
--   Needs more tokens per thread than connections per thread. Prints "CHAIN ok=.. bad=..".
local tokens, waiting = {}, {}
ok, bad = 0, 0

function setup(thread)
  threads = threads or {}
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads, k = tonumber(args[2] or "1"), 0
  local path = assert(args[1], "token file argument missing")
  for line in io.lines(path) do
    if line ~= "" then
      if k % nthreads == id then tokens[#tokens + 1] = line end
      k = k + 1
    end
  end
end

function request()
  local token = table.remove(tokens, 1)
  if token == nil then return wrk.format("GET", "/healthz") end  -- every chain in flight
  return wrk.format("POST", "/api/refresh_token", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local next = body and body:match('"refresh_token":"([^"]+)"')
  if status == 200 and next then
    ok = ok + 1
    tokens[#tokens + 1] = next
  elseif status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    wrong = wrong + t:get("bad")
  end
  io.write(string.format("CHAIN ok=%d bad=%d rate=%.0f p50_us=%d p99_us=%d\n", good, wrong,
    good / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99)))
end
