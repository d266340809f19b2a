-- mixed: 60% append (over 100 sessions), 30% get (the 50-message session), 10% batch of 10.
-- wrk -s mixed.lua URL
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

-- A fixed cycle of ten requests: 6 appends, 3 gets, 1 batch.
local cycle = { "append", "get", "append", "append", "get", "append", "batch", "append", "get", "append" }
local get_req
local n

function init(args)
  get_req = wrk.format("GET", "/api/v1/sessions/bench-get")
  n = (thread_id or 0) * 7919
end

function request()
  n = n + 1
  local kind = cycle[n % #cycle + 1]
  if kind == "get" then
    return get_req
  end
  local session = string.format("/api/v1/sessions/bench-append-%03d/messages", n % 100)
  if kind == "batch" then
    return wrk.format("POST", session .. "/batch", common.json_headers, common.batch(10, n))
  end
  local role = n % 2 == 1 and "user" or "assistant"
  return wrk.format("POST", session, common.json_headers, common.message(role, n))
end

setup = common.setup
done = common.done
