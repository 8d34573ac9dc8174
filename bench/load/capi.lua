-- Server-to-server events (the CAPI module): POST of one JSON event batch read from a file.
-- Arguments: the path (e.g. /capi/events), the body file, and an optional Authorization header value.
function init(args)
   wrk.method = "POST"
   wrk.path = args[1]
   local file = assert(io.open(args[2], "rb"))
   wrk.body = file:read("*a")
   file:close()
   wrk.headers["Content-Type"] = "application/json"
   if args[3] ~= nil and args[3] ~= "" then
      wrk.headers["Authorization"] = args[3]
   end
end
