-- Shared by the wrk scenarios: message bodies and the machine-readable summary line.
-- Loaded with dofile() from the scenario's own folder, so wrk can be started from anywhere.
local M = {}

-- About 200 characters of text, different for each i.
function M.content(i)
  return string.format(
    "Message %08d: the quick brown fox jumps over the lazy dog while the agent keeps notes about "
    .. "the user's preferences, their calendar, the projects at work and the books they liked.", i)
end

function M.message(role, i)
  return string.format('{"role":"%s","content":"%s"}', role, M.content(i))
end

function M.batch(n, i)
  local items = {}
  for k = 1, n do
    items[k] = M.message(k % 2 == 1 and "user" or "assistant", i * n + k)
  end
  return '{"messages":[' .. table.concat(items, ",") .. ']}'
end

M.json_headers = { ["Content-Type"] = "application/json" }

-- Each wrk thread gets its own id, so threads spread over sessions differently.
local counter = 0
function M.setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

-- One line run.py reads: counts, and latency in microseconds.
function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'MOCKVIKING_BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end

return M
