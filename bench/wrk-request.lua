-- One wrk script for every row of the benchmarks: the request comes from the
-- environment (method, a body file, a file of "Name: value" header lines, and how
-- the path varies), and done() prints one machine-readable line so the bench need
-- not parse wrk's report.

local method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY_FILE")
local header_file = os.getenv("WRK_HEADER_FILE")

wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end
if header_file and header_file ~= "" then
  for line in io.lines(header_file) do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
end

-- WRK_PATHS: "unique" appends a fresh suffix to every request's path (PUTs of new
-- objects); "cycle:N" appends 0..N-1 in turn (GETs of N objects put beforehand).
local paths = os.getenv("WRK_PATHS") or ""
local cycle = tonumber(paths:match("^cycle:(%d+)$"))
local counter = 0
local prefix = ""

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  prefix = string.format("%08x-", math.random(0, 0x7fffffff))
end

if paths ~= "" then
  request = function()
    counter = counter + 1
    local suffix
    if cycle then suffix = tostring(counter % cycle) else suffix = prefix .. counter end
    return wrk.format(nil, wrk.path .. suffix)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
