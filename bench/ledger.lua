-- wrk script of the ledger bench (one Lua state per wrk thread; LuaJIT).
--
-- Environment (set by bench/ledger.py):
--   BENCH_TOKEN      the service token
--   BENCH_MODE       "posting" (one add per request) or "batch" (BENCH_BATCH_SIZE adds per request)
--   BENCH_ACCOUNTS   accounts bench-0000 .. to spread over (1: one hot account)
--   BENCH_PREFIX     prefix of this phase's trade numbers (unique per phase)
--   BENCH_REPLAY     every n-th posting repeats an earlier trade number of its thread (a replay: 201); 0 never
--   BENCH_RATE, BENCH_THREADS   pacing (bench/paced.lua)
dofile(os.getenv("BENCH_LIB")) -- bench/paced.lua: now(), pacing, scheduled_id(), response(), done()

local mode = os.getenv("BENCH_MODE") or "posting"
local accounts = tonumber(os.getenv("BENCH_ACCOUNTS") or "1000")
local prefix = os.getenv("BENCH_PREFIX") or "p"
local replay_every = tonumber(os.getenv("BENCH_REPLAY") or "0")
local batch_size = tonumber(os.getenv("BENCH_BATCH_SIZE") or "1000")
local headers = {["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
                 ["Content-Type"] = "application/json"}

sequence = 0

local function eid(n)
    return string.format("bench-%04d", n % accounts)
end

local function posting(trade, n)
    return string.format('{"eid":"%s","trade_no":"%s-%d-%d","amount":1}', eid(n), prefix, id, trade)
end

function request()
    sequence = sequence + 1
    headers["X-Request-Id"] = scheduled_id()
    if mode == "batch" then
        local operations = {}
        for n = 1, batch_size do
            operations[n] = string.format('{"op":"add","eid":"%s","trade_no":"%s-%d-%d-%d","amount":1}',
                                          eid(sequence * batch_size + n + id * 31), prefix, id, sequence, n)
        end
        return wrk.format("POST", "/account/balance/batch", headers,
                          '{"operations":[' .. table.concat(operations, ",") .. "]}")
    end
    local trade = sequence
    if replay_every > 0 and sequence % replay_every == 0 then
        trade = sequence - 1 - (sequence * 7) % math.min(sequence - 1, 97) -- an earlier trade of this thread
        if trade % replay_every == 0 then trade = trade - 1 end         -- that was posted (not itself a replay)
    end
    return wrk.format("POST", "/account/balance/add", headers, posting(trade, trade * 7919 + id * 104729))
end
