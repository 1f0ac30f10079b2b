-- wrk's request script for the benchmark (bench/lib/wrk.js writes its arguments):
--   wrk ... -s bench/lib/wrk-requests.lua <url> -- <variants file> <mode> <order> <method> <start> [<body>]
-- <variants file>: one variant a line, read once when the thread starts (never during the run).
-- <mode>: "none" (every request the same), "body" (the line is the request's body), or
-- "header:<Name>" (the line is the value of that header). Static headers come from wrk's -H.
-- <order>: "random" (a variant drawn at random for each request) or "once" (each variant in file
-- order, once: the thread stops when every answer has arrived; used to warm a server's caches).
-- "cycle" (each variant in file order from line <start> + 1 on, wrapping at the end: a key
-- is not presented twice before the file has been gone through).
-- <method>: GET (the default) or POST. <start>: where "cycle" begins (0 by default). <body>: the
-- body of every request, when the variants are not bodies.
-- done() prints one line, "wrk-result {json}", with the counts, exact latency percentiles in
-- microseconds and the CPU time wrk's process used during the run (from /proc/self/stat).

local variants = {}
local prepared = {}
local count = 0
local mode = "none"
local order = "random"
local header = nil
local sent = 0
local start = 0
local answered = 0
local failed = 0
local running = false

-- utime + stime of wrk's process, in clock ticks (all its threads).
local function cpu_ticks()
  local file = io.open("/proc/self/stat", "r")
  if not file then return nil end
  local stat = file:read("*a")
  file:close()
  local rest = stat:sub(stat:find(")", 1, true) + 2)
  local fields = {}
  for field in rest:gmatch("%S+") do fields[#fields + 1] = field end
  return tonumber(fields[12]) + tonumber(fields[13])
end

-- setup() runs in the main Lua state, which done() shares: it keeps the threads so that done() can
-- read what their init() measured.
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  mode = args[2] or "none"
  order = args[3] or "random"
  wrk.method = args[4] or "GET"
  start = tonumber(args[5] or "0") or 0
  if args[6] and args[6] ~= "" then wrk.body = args[6] end
  if args[1] and args[1] ~= "" then
    for line in io.lines(args[1]) do
      count = count + 1
      variants[count] = line
    end
  end
  if mode:sub(1, 7) == "header:" then header = mode:sub(8) end
  math.randomseed(os.time())
  -- Small sets are formatted once; large ones (a million keys) are formatted per request.
  if count > 0 and count <= 100000 then
    for i = 1, count do prepared[i] = build(variants[i]) end
  end
  if count == 0 then prepared[1] = wrk.format(); count = 1; mode = "none" end
  -- wrk parses answers for Lua only when response() exists once init() has run: the measured runs
  -- (random order) leave it undefined, so reading answers costs wrk nothing.
  if order == "once" then response = once_response end
  -- The CPU wrk spent reading and formatting the variants is not the run's: done() subtracts it.
  init_ticks = cpu_ticks()
end

function build(variant)
  if mode == "body" then return wrk.format(nil, nil, nil, variant) end
  if header then
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers[header] = variant
    return wrk.format(nil, nil, headers, nil)
  end
  return wrk.format()
end

local function pick(i)
  return prepared[i] or build(variants[i])
end

function request()
  if not running then
    -- wrk calls request() once before the run to check it: that call must not use up a variant.
    running = true
    return pick(1)
  end
  if order == "once" then
    sent = sent + 1
    if sent > count then return pick(count) end
    return pick(sent)
  end
  if order == "cycle" then
    sent = sent + 1
    return pick((start + sent - 1) % count + 1)
  end
  return pick(math.random(count))
end

-- Counts the answers of a "once" run and stops the thread when all have arrived.
function once_response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then failed = failed + 1 end
  if answered == count then
    -- wrk's main thread sleeps for the whole duration: bench/lib/wrk.js ends it on this line.
    io.write("wrk-once-done\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local ticks = cpu_ticks()
  local before = threads[1] and tonumber(threads[1]:get("init_ticks")) or nil
  local used = "null"
  if ticks and before then used = tostring(ticks - before) end
  local e = summary.errors
  io.write(string.format(
    'wrk-result {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"non2xx":%d,' ..
    '"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d,"meanUs":%.1f,"cpuTicks":%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean, used))
end
