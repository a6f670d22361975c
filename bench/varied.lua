-- A different search on each request (a word and a price band), so the list cache rarely
-- holds the answer: what a search costs when it has to be computed.
dofile(os.getenv("REPORT_LUA"))
local words = {"toyota", "honda", "ford", "golf", "civic", "corolla", "bmw", "audi",
               "kia", "tesla", "volvo", "mazda", "skoda", "nissan", "hyundai", "renault"}
-- Each wrk thread gets its own sequence of searches.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 100 + id)
end
-- VARIED=page: the marketplace page instead of the API (it counts every facet too).
local page = os.getenv("VARIED") == "page"
request = function()
  local low = math.random(0, 2000) * 20
  local path = page and "/cars?q=%s&min_price=%d&max_price=%d&sort=price_asc"
    or "/api/cars/?search=%s&min_price=%d&max_price=%d&ordering=price"
  return wrk.format("GET", string.format(path, words[math.random(#words)], low, low + 15000))
end
