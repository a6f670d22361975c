-- wrk script: sellers listing cars through the API, each request with one of the
-- sellers' tokens (read from TOKENS_FILE), counting the listings acknowledged (201).
local tokens = {}
local n = 0
created = 0
failures = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local ids

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    table.insert(tokens, line)
  end
  -- Every acknowledged listing's id, so the script can check each one was stored.
  ids = io.open(os.getenv("IDS_FILE"), "a")
end

function request()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  local body = string.format(
    '{"make":"Loadtest","model":"Run %d","year":2018,"price":"%d.00","mileage":%d,"description":"Listed by the load test."}',
    n, 5000 + n % 20000, n % 200000)
  return wrk.format("POST", "/api/cars/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. token,
  }, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
    ids:write(body:match('"id":(%d+)') or "missing", "\n")
    ids:flush()
  else
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local total_created, failed = 0, 0
  for _, thread in ipairs(threads) do
    total_created = total_created + thread:get("created")
    failed = failed + thread:get("failures")
  end
  io.write(string.format("RESULT sell requests=%d created=%d failures=%d socket_errors=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n",
    summary.requests, total_created, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
