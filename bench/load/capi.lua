-- Server-to-server events (the CAPI module): POST /capi/v1/events, one purchase per request with a unique event id
-- (so none is deduplicated), the site's API key. Counts answers that are not 202 with "accepted":1.
-- Arguments: the path, the body template file (@EVENT_ID@, @EVENT_TIME@), the API key, the round's tag.
local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   path = args[1]
   local file = assert(io.open(args[2], "rb"))
   template = file:read("*a"):gsub("@EVENT_TIME@", tostring(os.time()))
   file:close()
   tag = args[4] or "run"
   counter = 0
   bad = 0
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. args[3]
end

function request()
   counter = counter + 1
   local body = template:gsub("@EVENT_ID@", "bench-" .. tag .. "-" .. id .. "-" .. counter)
   return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
   if status ~= 202 or not string.find(body, '"accepted":1', 1, true) then
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("bad")
   end
   io.write(string.format("capi-not-accepted: %d\n", total))
end
