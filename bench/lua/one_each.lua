-- Posts every line of a file once: refresh tokens rotate and codes are single use, so no request
-- may repeat. Arguments after wrk's "--": PATH AUTHORIZATION BODIES_FILE THREADS (wrk's -t).
-- Thread k of n takes lines k, k+n, k+2n...; a thread that runs out stops, and done() reports how
-- many lines were used of how many seeded, so an exhausted run cannot pass unnoticed.
-- wrk calls setup() and then init() thread by thread, so a thread cannot learn the thread count
-- from setup(): it comes as an argument.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads - 1)
end

local requests = {}
local fallback = nil
used = 0
seeded = 0
exhausted = false

function init(args)
  local path, auth, file = args[1], args[2], args[3]
  local thread_count = tonumber(args[4])
  local headers = {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  local n = 0
  for line in io.lines(file) do
    if line ~= "" then
      if n % thread_count == thread_index then
        table.insert(requests, wrk.format("POST", path, headers, line))
      end
      n = n + 1
    end
  end
  seeded = #requests
  fallback = requests[seeded] or wrk.format("POST", path, headers, "")
end

function request()
  if used >= seeded then
    if not exhausted then
      exhausted = true
      wrk.thread:stop()
    end
    -- Something must be returned; a repeated body is refused (non-2xx), which the table shows.
    return fallback
  end
  used = used + 1
  return requests[used]
end

function done(summary, latency, reqs)
  local total_used, total_seeded, empty = 0, 0, 0
  for _, t in ipairs(threads) do
    total_used = total_used + t:get("used")
    total_seeded = total_seeded + t:get("seeded")
    if t:get("exhausted") then empty = empty + 1 end
  end
  io.write(string.format("one_each: used %d of %d seeded bodies; exhausted threads: %d\n",
    total_used, total_seeded, empty))
end
