-- Shared by the wrk scripts of bench/ (loaded with dofile). Provides:
--   bench.load_tokens(file, id, nthreads): this wrk thread's share of a token file
--     (line k goes to thread k % nthreads), so no refresh token is used twice;
--   setup()/done(): number the threads, and print one machine-readable line
--     "BENCH {...}" (requests, req/s, p50/p99 in microseconds, errors) for bench/run.sh.
-- Threads report how many requests they made after their tokens ran out ("exhausted":
-- the thread stops itself then) through globals read with thread:get().
bench = {}

function bench.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default == nil then error("environment variable " .. name .. " is not set") end
    return default
  end
  return v
end

function bench.read_first_line(path)
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  local line = f:read("*l")
  f:close()
  return line
end

function bench.load_tokens(path, id, nthreads)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  local k = 0
  for line in f:lines() do
    if line ~= "" then
      if k % nthreads == id then out[#out + 1] = line end
      k = k + 1
    end
  end
  f:close()
  return out
end

function bench.json_headers()
  return { ["Content-Type"] = "application/json" }
end

-- The request a thread sends once it has run out of tokens, after stopping itself:
-- wrk still sends it, so it is cheap and counted apart ("exhausted").
function bench.out_of_tokens()
  exhausted = (exhausted or 0) + 1
  wrk.thread:stop()
  return wrk.format("GET", "/healthz")
end

-- The access token for protected requests: $BENCH_ACCESS_TOKEN, or the first line of
-- the file $BENCH_ACCESS_TOKEN_FILE.
function bench.access_token()
  local token = os.getenv("BENCH_ACCESS_TOKEN")
  if token == nil or token == "" then
    token = bench.read_first_line(bench.env("BENCH_ACCESS_TOKEN_FILE"))
  end
  return token
end

-- Refresh with the next unused token of this thread's slice; counts what was used in
-- the global `tokens_used` (reported by done()). Returns the request and the new position.
function bench.next_refresh(tokens, pos)
  pos = pos + 1
  local t = tokens[pos]
  if t == nil then return bench.out_of_tokens(), pos end
  tokens_used = pos
  return wrk.format("POST", "/api/refresh_token", bench.json_headers(),
                    '{"refresh_token":"' .. t .. '"}'), pos
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  local exhausted_total, tokens_used = 0, 0
  for _, t in ipairs(threads) do
    exhausted_total = exhausted_total + (t:get("exhausted") or 0)
    tokens_used = tokens_used + (t:get("tokens_used") or 0)
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"status_errors":%d,"socket_errors":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"exhausted":%d,"tokens_used":%d}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.status, socket, e.connect,
    e.read, e.write, e.timeout, exhausted_total, tokens_used))
end
