-- What every wrk script of the benches shares (loaded with dofile(BENCH_LIB); one Lua state per wrk
-- thread; LuaJIT): thread ids, open-loop pacing, per-status counts, latency and the summary line that
-- bench/wrk.py reads.
--
-- Environment: BENCH_RATE total requests/s, paced (0 = as fast as possible); BENCH_THREADS wrk's -t
-- (the pace is split between threads).
--
-- Pacing is open loop: each request has a scheduled time, sent in X-Request-Id, which the services echo,
-- so latency counts from when the request was due and a server that falls behind is charged for the queue.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")

function now()
    ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC, shared by the threads of the process
    return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

rate = tonumber(os.getenv("BENCH_RATE") or "0") / tonumber(os.getenv("BENCH_THREADS") or "1")

-- main state: remember the threads to collect their counters in done()
local threads = {}
local next_id = 0
function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

-- thread state
statuses = {}
latencies = {}
local slots = {}        -- scheduled times handed out by delay(), consumed in order by request()
local slot_head, slot_tail, started = 1, 0, nil

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

-- The X-Request-Id of the next request: its scheduled time when pacing, else "".
function scheduled_id()
    if rate > 0 and slot_head <= slot_tail then
        local request_id = string.format("%.6f", slots[slot_head])
        slots[slot_head] = nil
        slot_head = slot_head + 1
        return request_id
    end
    return ""
end

function response(status, response_headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    local scheduled = tonumber(response_headers["X-Request-Id"] or "")
    if rate > 0 and scheduled then
        latencies[#latencies + 1] = now() - scheduled
    end
end

function done(summary, latency, requests)
    local counts, samples, parts = {}, {}, {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + count end
        for _, sample in ipairs(thread:get("latencies")) do samples[#samples + 1] = sample end
    end
    for status, count in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', status, count) end
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
