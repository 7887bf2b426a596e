-- wrk script for bench/wrk_bench.py: whole enumerations, Enumerate and
-- then Pull until EndOfSequence, on one connection per thread (run it
-- with -c equal to -t: the next request depends on the last answer).
--   BENCH_BODY     the Enumerate envelope
--   BENCH_PULL     the Pull envelope, with @CONTEXT@ for the context
--   BENCH_HEADERS  extra header lines, "Name: value", one per line
-- done() prints "WRK_JSON {...}" with the number of whole enumerations.

local function slurp(name)
    local f = assert(io.open(name, "rb"))
    local data = f:read("*a")
    f:close()
    return data
end

local enumerate = slurp(os.getenv("BENCH_BODY"))
local pull = slurp(os.getenv("BENCH_PULL"))
local at = pull:find("@CONTEXT@", 1, true)
local headers = {}
local threads = {}

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
        headers[name] = value
    end
end

context = nil
enumerations = 0
broken = 0

function setup(thread)
    table.insert(threads, thread)
end

function request()
    local body = enumerate
    if context then
        body = pull:sub(1, at - 1) .. context .. pull:sub(at + 9)
    end
    return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
    if status ~= 200 then
        context = nil                   -- wrk counts it as an error
        return
    end
    if body:find("EndOfSequence", 1, true) then
        enumerations = enumerations + 1
        context = nil
        return
    end
    context = body:match("EnumerationContext>([^<]+)<")
    if not context then                 -- 200 but neither context nor end
        broken = broken + 1
    end
end

function done(summary, latency, requests)
    local n, b = 0, 0
    for _, t in ipairs(threads) do
        n = n + (t:get("enumerations") or 0)
        b = b + (t:get("broken") or 0)
    end
    local e = summary.errors
    io.write(string.format(
        'WRK_JSON {"requests": %d, "seconds": %.3f, "bytes": %d, ' ..
        '"errors": %d, "status_errors": %d, "p50_us": %d, "p99_us": %d, ' ..
        '"enumerations": %d, "broken": %d}\n',
        summary.requests, summary.duration / 1e6, summary.bytes,
        e.connect + e.read + e.write + e.timeout + e.status + b, e.status,
        latency:percentile(50), latency:percentile(99), n, b))
end
