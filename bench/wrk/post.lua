-- wrk script for bench/wrk_bench.py: the same POST again and again.
--   BENCH_BODY     file with the request body
--   BENCH_HEADERS  extra header lines, "Name: value", one per line
-- done() prints one line "WRK_JSON {...}" that wrk_bench.py reads.

local function slurp(name)
    local f = assert(io.open(name, "rb"))
    local data = f:read("*a")
    f:close()
    return data
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY"))

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
        wrk.headers[name] = value
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRK_JSON {"requests": %d, "seconds": %.3f, "bytes": %d, ' ..
        '"errors": %d, "status_errors": %d, "p50_us": %d, "p99_us": %d}\n',
        summary.requests, summary.duration / 1e6, summary.bytes,
        e.connect + e.read + e.write + e.timeout + e.status, e.status,
        latency:percentile(50), latency:percentile(99)))
end
