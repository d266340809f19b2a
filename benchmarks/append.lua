-- append: POST one message, spread over SESSIONS sessions (PREFIX000 .. PREFIX099).
-- wrk -s append.lua URL -- [PREFIX] [SESSIONS]   (default bench-append- 100)
-- With SESSIONS = 1 every message goes to the session named PREFIX itself.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local prefix, sessions, n
function init(args)
  prefix = args[1] or "bench-append-"
  sessions = tonumber(args[2] or "100")
  n = (thread_id or 0) * 7919
end

local function path(i)
  if sessions == 1 then
    return "/api/v1/sessions/" .. prefix .. "/messages"
  end
  return string.format("/api/v1/sessions/%s%03d/messages", prefix, i % sessions)
end

function request()
  n = n + 1
  local role = n % 2 == 1 and "user" or "assistant"
  return wrk.format("POST", path(n), common.json_headers, common.message(role, n))
end

setup = common.setup
done = common.done
