-- wrk script for the benchmark: POST one JSON body with the given headers, then print a
-- machine-readable summary line that loadtest/wrkrun.py parses.
--   WRK_BODY_FILE  the request body (read once)
--   WRK_HEADERS    header lines separated by "\n", e.g. "authorization: Bearer k"
local body_file = os.getenv("WRK_BODY_FILE")
local headers = os.getenv("WRK_HEADERS") or ""

wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
for line in string.gmatch(headers, "[^\n]+") do
  local name, value = string.match(line, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end
if body_file then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "mean_us=%.1f connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
    e.timeout))
end
