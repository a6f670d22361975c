-- wrk script: buyers browsing the marketplace (HTML pages and the API), round robin.
local paths = {
  "/cars",
  "/cars?page=3",
  "/cars?q=toyota&min_price=5000&max_price=30000&sort=price_asc",
  "/api/cars/",
  "/api/cars/?search=ford&ordering=-price&min_year=2012",
}
local n = 0
failures = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  local path
  if n % 3 == 0 then
    path = "/cars/" .. tostring((n % 240) + 1)
  else
    path = paths[(n % #paths) + 1]
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status >= 400 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
  end
  io.write(string.format("RESULT browse requests=%d failures=%d socket_errors=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n",
    summary.requests, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
