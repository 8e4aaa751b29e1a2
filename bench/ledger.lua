-- wrk script of the ledger bench (one Lua state per wrk thread; LuaJIT).
--
-- Environment (set by bench/ledger.py):
--   BENCH_TOKEN      the service token
--   BENCH_MODE       "posting" (one add per request) or "batch" (BENCH_BATCH_SIZE adds per request)
--   BENCH_ACCOUNTS   accounts bench-0000 .. to spread over (1: one hot account)
--   BENCH_PREFIX     prefix of this phase's trade numbers (unique per phase)
--   BENCH_REPLAY     every n-th posting repeats an earlier trade number of its thread (a replay: 201); 0 never
--   BENCH_RATE       total requests/s, paced (open loop: latency counts from each request's scheduled time,
--                    carried in X-Request-Id and echoed by the ledger); 0 = as fast as possible
--   BENCH_THREADS    wrk's -t (the pace is split between threads)
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now()
    ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC, shared by the threads of the process
    return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local mode = os.getenv("BENCH_MODE") or "posting"
local accounts = tonumber(os.getenv("BENCH_ACCOUNTS") or "1000")
local prefix = os.getenv("BENCH_PREFIX") or "p"
local replay_every = tonumber(os.getenv("BENCH_REPLAY") or "0")
local batch_size = tonumber(os.getenv("BENCH_BATCH_SIZE") or "1000")
local rate = tonumber(os.getenv("BENCH_RATE") or "0") / tonumber(os.getenv("BENCH_THREADS") or "1")
local headers = {["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
                 ["Content-Type"] = "application/json"}

-- main state: remember the threads to collect their counters in done()
local threads = {}
local next_id = 0
function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

-- thread state
sequence = 0
statuses = {}
latencies = {}
local slots = {}        -- scheduled times handed out by delay(), consumed in order by request()
local slot_head, slot_tail, started = 1, 0, nil

local function eid(n)
    return string.format("bench-%04d", n % accounts)
end

local function posting(trade, n)
    return string.format('{"eid":"%s","trade_no":"%s-%d-%d","amount":1}', eid(n), prefix, id, trade)
end

-- defined only when pacing: wrk then asks it how long to wait before each request
if rate > 0 then
  function delay()
    started = started or now()
    slot_tail = slot_tail + 1
    local scheduled = started + (slot_tail - 1) / rate
    slots[slot_tail] = scheduled
    local wait = (scheduled - now()) * 1000
    return wait > 0 and math.ceil(wait) or 0
  end
end

function request()
    sequence = sequence + 1
    local request_id = ""
    if rate > 0 and slot_head <= slot_tail then
        request_id = string.format("%.6f", slots[slot_head])
        slots[slot_head] = nil
        slot_head = slot_head + 1
    end
    headers["X-Request-Id"] = request_id
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

function response(status, response_headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    local scheduled = tonumber(response_headers["X-Request-Id"] or "")
    if rate > 0 and scheduled then
        latencies[#latencies + 1] = now() - scheduled
    end
end

function done(summary, latency, requests)
    local counts, samples = {}, {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            counts[status] = (counts[status] or 0) + count
        end
        for _, sample in ipairs(thread:get("latencies")) do
            samples[#samples + 1] = sample
        end
    end
    local parts = {}
    for status, count in pairs(counts) do
        parts[#parts + 1] = string.format('"%d":%d', status, count)
    end
    local p50, p99 = latency:percentile(50) / 1000, latency:percentile(99) / 1000
    if #samples > 0 then
        table.sort(samples)
        p50 = samples[math.floor(#samples * 0.50) + 1] * 1000
        p99 = samples[math.min(#samples, math.floor(#samples * 0.99) + 1)] * 1000
    end
    local errors = summary.errors
    io.write(string.format('BENCH {"requests":%d,"duration_s":%.3f,"statuses":{%s},"p50_ms":%.2f,"p99_ms":%.2f,'
                           .. '"max_ms":%.2f,"socket_errors":%d}\n',
                           summary.requests, summary.duration / 1e6, table.concat(parts, ","), p50, p99,
                           latency.max / 1000, errors.connect + errors.read + errors.write + errors.timeout))
end
