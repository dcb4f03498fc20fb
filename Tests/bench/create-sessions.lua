-- wrk script (run with -t1): POST /v1/bridges/<bridge>/login-sessions with an empty JSON body
-- until BENCH_SESSIONS answers came back, then stop sending and touch BENCH_DONE_FILE. The time
-- from the first request to the last answer is taken here with the monotonic clock, since wrk's
-- own summary counts all of -d: scripts/bench sees the file and ends wrk with SIGINT. Prints
-- `sessions: ok=N other=N seconds=S` (answers 200, answers otherwise, seconds taken).
-- Environment: BENCH_TOKEN, BENCH_SESSIONS, BENCH_DONE_FILE, BENCH_BRIDGE (default demo-password).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local function now()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, t) -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end

local token = os.getenv("BENCH_TOKEN")
local bridge = os.getenv("BENCH_BRIDGE") or "demo-password"
local limit = tonumber(os.getenv("BENCH_SESSIONS") or "100")
local done_file = os.getenv("BENCH_DONE_FILE")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
  finished = 0
  started = now()
  wrk.method = "POST"
  wrk.path = "/v1/bridges/" .. bridge .. "/login-sessions"
  wrk.body = "{}"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function response(status, headers, body)
  if finished > 0 then return end
  if status == 200 then ok = ok + 1 else other = other + 1 end
  if ok + other >= limit then
    finished = now()
    if done_file then
      local f = io.open(done_file, "w")
      if f then f:write("done\n"); f:close() end
    end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_ok, total_other, seconds = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_other = total_other + thread:get("other")
    local finished, started = thread:get("finished"), thread:get("started")
    if finished > 0 then seconds = math.max(seconds, finished - started) end
  end
  io.write(string.format("sessions: ok=%d other=%d seconds=%.4f\n", total_ok, total_other, seconds))
end
