-- GA4 hit: POST /metrics/g/collect with a batched body of three events (as gtag sends after a page's first
-- seconds), a browser's headers, and a cookie jar mixing Google's cookies with the site's and another vendor's.
-- Arguments: the round's tag, sent as ?bk=… so the fake upstream's log can count this round's forwarded hits; and
-- the Unix time the harness started, for the gateway's refresh marker (tg_ts). The jar is a returning browser's: the
-- HttpOnly copies and the marker the gateway set on its first answer are in it, so a hit re-issues no cookie, as most
-- hits of a day do. (The first hit of a visitor's day re-issues its identifiers: bench/ HitForwardingBenchmarks measures it.)
function init(args)
   local tag = args[1] or "none"
   local marker = args[2] or "0"
   wrk.method = "POST"
   wrk.path = "/metrics/g/collect?v=2&tid=G-BENCH12345&gtm=45je5bk0v9181017716za200&_p=1732867200123"
      .. "&gcs=G111&gcd=13l3l3l3l1l1&npa=0&dma=0&tag_exp=101925629~102067555~102081485&cid=1234567890.1732860000"
      .. "&ul=en-us&sr=1920x1080&uaa=x86&uab=64&uafvl=Chromium%3B131.0.6778.86%7CGoogle%2520Chrome%3B131.0.6778.86"
      .. "&uamb=0&uam=&uap=Linux&uapv=6.1.0&uaw=0&are=1&frm=0&pscdl=noapi&_eu=AEAAAAQ&_s=3&sid=1732867000&sct=4"
      .. "&seg=1&dl=https%3A%2F%2Fwww.example.com%2Fproducts%2Fwidget-42%3Futm_source%3Dnewsletter"
      .. "&dr=https%3A%2F%2Fwww.example.com%2F&dt=Widget%2042%20%E2%80%93%20Example%20Shop&_tu=CA&bk=" .. tag
   wrk.body = "en=page_view&_fv=1&_nsi=1&_ss=1&ep.content_group=products&_ee=1&tfd=1123&_et=12\r\n"
      .. "en=scroll&epn.percent_scrolled=90&_et=5321&tfd=6450\r\n"
      .. "en=view_item&pr1=idW-42~nmWidget%2042~brExample~caTools~va blue~pr19.99~qt1&cu=USD&epn.value=19.99&_et=2380&tfd=8830"
   wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
   wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
   wrk.headers["Accept"] = "*/*"
   wrk.headers["Accept-Language"] = "en-US,en;q=0.9,de;q=0.8"
   wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"
   wrk.headers["Origin"] = "https://www.example.com"
   wrk.headers["Referer"] = "https://www.example.com/products/widget-42?utm_source=newsletter"
   wrk.headers["Sec-CH-UA"] = "\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""
   wrk.headers["Sec-CH-UA-Mobile"] = "?0"
   wrk.headers["Sec-CH-UA-Platform"] = "\"Linux\""
   wrk.headers["Sec-Fetch-Dest"] = "empty"
   wrk.headers["Sec-Fetch-Mode"] = "no-cors"
   wrk.headers["Sec-Fetch-Site"] = "same-origin"
   wrk.headers["Priority"] = "u=4, i"
   wrk.headers["Cookie"] = "_ga=GA1.1.1234567890.1732860000; _gcl_au=1.1.987654321.1732860000; "
      .. "session_id=s%3A8f7e6d5c4b3a2918.Xy7Qk2mN9pL4rT6vW8zA1bC3dE5fG7hJ; _fbp=fb.1.1732860000123.123456789; cart=3; "
      .. "_ga_BENCH12345=GS2.1.s1732867000$o4$g1$t1732867123$j60$l0$h0; FPID=FPID2.2.bEnCh0a1b2c3d4e5f6g7h8i9j0%3D.1732867200; "
      .. "csrftoken=Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE; _hjSessionUser_1234=eyJpZCI6IjEyMzQ1Njc4OTAiLCJjcmVhdGVkIjoxNzMyODYwMDAwfQ==; "
      .. "tg_ga=GA1.1.1234567890.1732860000; tg_fbp=fb.1.1732860000123.123456789; tg_ts=" .. marker
end
