-- wrk script, the registration flood of bench/regflood.sh: POST /api/register, every request
-- a new account from its own client address, given in X-Forwarded-For (the server trusts
-- the bench's 127.0.0.1 as a proxy), so the per-address registration limit never refuses
-- one: every request runs one argon2id hash and one insert.
-- Addresses: 198.18.0.0/15 (RFC 2544, benchmarking), one block of 65536 per wrk thread.
local dir = os.getenv("BENCH_DIR") or debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "/common.lua")

local run = bench.env("BENCH_RUN_ID", tostring(os.time()))
local n = 0

function request()
  n = n + 1
  local address = string.format("198.%d.%d.%d", 18 + id % 2,
                                math.floor(id / 2) * 64 + math.floor(n / 256) % 64, n % 256)
  local body = string.format('{"email":"flood-%s-%d-%d@example.com","password":"flood password %d"}',
                             run, id, n, n)
  return wrk.format("POST", "/api/register",
                    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address }, body)
end
