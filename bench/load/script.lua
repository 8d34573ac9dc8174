-- A browser loading the tag: GET /metrics/gtag/js?id=G-BENCH12345 accepting Brotli. Argument (optional): an
-- ETag to send as If-None-Match, for the conditional (304) scenario.
function init(args)
   wrk.method = "GET"
   wrk.path = "/metrics/gtag/js?id=G-BENCH12345"
   wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
   wrk.headers["Accept"] = "*/*"
   wrk.headers["Accept-Language"] = "en-US,en;q=0.9,de;q=0.8"
   wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
   wrk.headers["Referer"] = "https://www.example.com/products/widget-42"
   wrk.headers["Sec-CH-UA"] = "\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""
   wrk.headers["Sec-CH-UA-Mobile"] = "?0"
   wrk.headers["Sec-CH-UA-Platform"] = "\"Linux\""
   wrk.headers["Sec-Fetch-Dest"] = "script"
   wrk.headers["Sec-Fetch-Mode"] = "no-cors"
   wrk.headers["Sec-Fetch-Site"] = "same-origin"
   wrk.headers["Cookie"] = "_ga=GA1.1.1234567890.1732860000; session_id=s%3A8f7e6d5c4b3a2918; cart=3"
   if args[1] ~= nil and args[1] ~= "" then
      wrk.headers["If-None-Match"] = args[1]
   end
end
