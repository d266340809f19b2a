-- get: GET one session (the one holding 50 messages).
-- wrk -s get.lua URL -- [SESSION_ID]          (default bench-get)
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local req
function init(args)
  req = wrk.format("GET", "/api/v1/sessions/" .. (args[1] or "bench-get"))
end

function request()
  return req
end

setup = common.setup
done = common.done
