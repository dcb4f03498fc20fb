-- A mixed load for wrk: mostly reads, and complete password logins (create a session, then
-- submit its step), each with a username of its own. Every response must be a 200.
-- The token comes from the environment: BRIDGES_LOAD_TOKEN.

local token = os.getenv("BRIDGES_LOAD_TOKEN")
-- Each run names its users apart from the runs before it.
local run = os.getenv("BRIDGES_LOAD_RUN") or "0"
-- A pause before each request, in milliseconds: the run with 200 subscribers paces itself so
-- that one Python process can read every event the logins cause.
local pause = tonumber(os.getenv("BRIDGES_LOAD_DELAY_MS") or "0")

function delay()
  return pause
end
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  pending = nil      -- a session waiting for its step submit: {id = ..., step = ...}
  sequence = 0
  completed = 0
  failures = 0
  last = "read"
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

function request()
  if pending ~= nil then
    sequence = sequence + 1
    local body = string.format(
      '{"type":"user_input","fields":{"username":"load-%s-%d-%d","password":"pw"}}', run, id, sequence)
    local path = "/v1/bridges/demo-password/login-sessions/" .. pending.id .. "/steps/" .. pending.step
    pending = nil
    last = "submit"
    return wrk.format("POST", path, headers, body)
  end
  local roll = math.random(10)
  if roll <= 2 then
    last = "create"
    return wrk.format("POST", "/v1/bridges/demo-password/login-sessions", headers, "{}")
  elseif roll <= 6 then
    last = "read"
    return wrk.format("GET", "/v1/bridges", headers)
  elseif roll <= 8 then
    last = "read"
    return wrk.format("GET", "/v1/accounts", headers)
  else
    last = "read"
    return wrk.format("GET", "/v1/bridges/demo-password/logins", headers)
  end
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    return
  end
  if last == "create" then
    local id = string.match(body, '"loginSessionID"%s*:%s*"([^"]+)"')
    local step = string.match(body, '"stepID"%s*:%s*"([^"]+)"')
    if id and step then pending = {id = id, step = step} end
  elseif last == "submit" and string.find(body, '"status"%s*:%s*"complete"') then
    completed = completed + 1
  end
end

function done(summary, latency, requests)
  local total_completed, total_failures = 0, 0
  for _, thread in ipairs(threads) do
    total_completed = total_completed + thread:get("completed")
    total_failures = total_failures + thread:get("failures")
  end
  io.write(string.format("load: requests=%d non200=%d logins_completed=%d p99_ms=%.1f\n",
    summary.requests, total_failures, total_completed, latency:percentile(99) / 1000))
end
