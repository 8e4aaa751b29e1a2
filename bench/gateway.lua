-- wrk script of the gateway bench (one Lua state per wrk thread; LuaJIT): each thread sends its share of
-- the phase's pre-built notifications as POST /gateway?<query>.
--
-- Environment (set by bench/gateway.py):
--   BENCH_FILE       one URL-encoded, signed notification query string per line
--   BENCH_OFFSET, BENCH_COUNT   the phase's lines: BENCH_OFFSET to BENCH_OFFSET + BENCH_COUNT
--   BENCH_RATE, BENCH_THREADS   pacing (bench/paced.lua)
dofile(os.getenv("BENCH_LIB")) -- bench/paced.lua: now(), pacing, scheduled_id(), response(), done()

local nthreads = tonumber(os.getenv("BENCH_THREADS"))
local offset, count = tonumber(os.getenv("BENCH_OFFSET")), tonumber(os.getenv("BENCH_COUNT"))
local queries, position = {}, 0

function init(args)
    local line_no = 0
    for line in io.lines(os.getenv("BENCH_FILE")) do
        if line_no >= offset and line_no < offset + count and (line_no - offset) % nthreads == id then
            queries[#queries + 1] = line
        end
        line_no = line_no + 1
    end
end

function request()
    position = position % #queries + 1
    return wrk.format("POST", "/gateway?" .. queries[position], {["X-Request-Id"] = scheduled_id()}, "")
end
