#!/usr/bin/env python3
"""Writes a deterministic stand-in for Google's gtag/js: minified-looking JavaScript of a realistic size and
compressibility (the real GA4 loader is ~300-400 KB, ~100-130 KB with Brotli). Same bytes on every run."""
import random
import sys

SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 340_000
rng = random.Random(20261129)
POOL_SIZE = 1500
ZIPF = 1.4

KEYWORDS = ["var ", "function(", "return ", "if(", "else ", "for(var ", "typeof ", "void 0", "null", "this.", "new ",
            "instanceof ", "break;", "continue;", "switch(", "case ", "default:", "throw ", "try{", "}catch(", "!0", "!1"]
STRINGS = ["page_view", "user_engagement", "scroll", "click", "session_start", "first_visit", "gtm.js", "gtag.js",
           "https://www.googletagmanager.com", "/g/collect", "_ga", "_gid", "_gcl_au", "consent", "ad_storage",
           "analytics_storage", "ad_user_data", "ad_personalization", "granted", "denied", "cookie_domain",
           "send_page_view", "transport_url", "server_container_url", "event", "config", "set", "get", "js",
           "dataLayer", "measurement_id", "engagement_time_msec", "debug_mode", "allow_google_signals",
           "allow_ad_personalization_signals", "linker", "cookie_expires", "cookie_prefix", "cookie_update",
           "page_location", "page_referrer", "page_title", "language", "screen_resolution", "client_id",
           "items", "currency", "value", "transaction_id", "purchase", "add_to_cart", "begin_checkout"]


def new_ident():
    n = rng.choice([1, 2, 2, 2, 3])
    first = rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
    return first + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n - 1))


# Minified code reuses a few thousand names, the common ones very often (Zipf-like).
POOL = [new_ident() for _ in range(POOL_SIZE)]
WEIGHTS = [1.0 / (i + 1) ** ZIPF for i in range(POOL_SIZE)]


def ident():
    return rng.choices(POOL, WEIGHTS)[0]


def expr(depth=0):
    r = rng.random()
    if depth > 2 or r < 0.3:
        return ident()
    if r < 0.42:
        return '"' + rng.choice(STRINGS) + '"'
    if r < 0.5:
        return str(rng.choice([0, 1, 2, 10, 16, 32, 100, 1e3, 864e5, rng.randint(0, 99999)]))
    if r < 0.7:
        return ident() + "(" + ",".join(expr(depth + 1) for _ in range(rng.randint(0, 3))) + ")"
    if r < 0.8:
        return ident() + "." + ident()
    if r < 0.9:
        return expr(depth + 1) + rng.choice(["===", "!==", "&&", "||", "+", "-", "<", ">=", "?", ":"]) + expr(depth + 1)
    return ident() + "[" + expr(depth + 1) + "]"


def statement():
    r = rng.random()
    if r < 0.25:
        return "var " + ident() + "=" + expr() + ";"
    if r < 0.45:
        return ident() + "=" + expr() + ";"
    if r < 0.6:
        return "if(" + expr() + ")" + rng.choice(KEYWORDS[4:8]) + expr() + ";"
    if r < 0.75:
        return "return " + expr() + ";"
    if r < 0.85:
        return rng.choice(KEYWORDS) + expr() + ";"
    return expr() + ";"


def function():
    params = ",".join(rng.choice("abcdefgh") for _ in range(rng.randint(0, 4)))
    body = "".join(statement() for _ in range(rng.randint(2, 9)))
    return "var " + ident() + "=function(" + params + "){" + body + "};"


out = ["\n// Copyright 2012 Google Inc. All rights reserved.\n(function(){\n"]
total = len(out[0])
while total < SIZE:
    f = function()
    out.append(f)
    total += len(f)
out.append("\n})();\n")
with open(sys.argv[1], "w", encoding="ascii") as handle:
    handle.write("".join(out)[:SIZE - 7] + "\n})();\n")
