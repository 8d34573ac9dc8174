namespace TagGateway.Capi.Storage.Redis;

/// <summary>
/// The store's Lua scripts. Each state change that spans keys is one script, so Redis applies it atomically and a
/// crash of the calling instance never leaves half of it. Keys are passed in KEYS (all share the prefix's hash tag,
/// so a cluster keeps them in one slot); the one exception is the heartbeat key named by a marker's value, which the
/// take script builds from the prefix because it is known only inside the script.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// Accepts one event. KEYS: event hash, live-event counter, the five destination streams, the five ledger keys.
    /// ARGV: seq, destination mask, ledger TTL ms, event JSON, ready ms. For each destination asked for, SET NX of the
    /// ledger key ("seq:readyMs") decides new or twin; new destinations get a stream entry. Returns
    /// {mask of new destinations, twin of destination 0 … 4 ("" when none)}.
    /// </summary>
    public const string Accept = """
        local mask = tonumber(ARGV[2])
        local remaining = 0
        local count = 0
        local out = {0, '', '', '', '', ''}
        for i = 0, 4 do
          local bit = 2 ^ i
          if math.floor(mask / bit) % 2 == 1 then
            if redis.call('SET', KEYS[8 + i], ARGV[1] .. ':' .. ARGV[5], 'NX', 'PX', ARGV[3]) then
              remaining = remaining + bit
              count = count + 1
            else
              out[i + 2] = redis.call('GET', KEYS[8 + i]) or ''
            end
          end
        end
        out[1] = remaining
        if count > 0 then
          redis.call('HSET', KEYS[1], 'b', ARGV[4], 'n', count, 'r', ARGV[5])
          redis.call('INCR', KEYS[2])
          for i = 0, 4 do
            if math.floor(remaining / 2 ^ i) % 2 == 1 then
              redis.call('XADD', KEYS[3 + i], '*', 's', ARGV[1], 'r', ARGV[5])
            end
          end
        end
        return out
        """;

    /// <summary>
    /// Merges into a waiting twin: compare-and-set of the event JSON. KEYS: event hash. ARGV: JSON read, merged JSON.
    /// Returns 1 when written, 0 when the JSON changed meanwhile (the caller reads again) or the event is gone.
    /// </summary>
    public const string Merge = """
        if redis.call('HGET', KEYS[1], 'b') == ARGV[1] then
          redis.call('HSET', KEYS[1], 'b', ARGV[2])
          return 1
        end
        return 0
        """;

    /// <summary>
    /// Takes stream entries for sending. KEYS: stream, then per entry its send marker and event hash. ARGV: group,
    /// consumer, heartbeat key prefix, marker TTL ms, "1" when orphans may be resolved, then the entry ids. Per entry it returns a status and a payload:
    /// <c>ok</c> + JSON (still ours in the pending list and nobody is sending it: our marker is set, we send);
    /// <c>gone</c> (acknowledged meanwhile, or its event vanished); <c>other</c> (claimed by another consumer);
    /// <c>busy</c> (a live consumer's marker: it is sending); <c>orphan</c> + JSON + the dead consumer (its marker is
    /// set and its heartbeat lapsed: it died between marking and acknowledging, so whether the platform has it is
    /// unknown). Without the orphan flag a lapsed heartbeat counts as busy: the caller has not seen Redis up for a whole
    /// heartbeat lifetime, and a Redis that was down (or restarted from its file) lets every heartbeat lapse.
    /// </summary>
    public const string Take = """
        local out = {}
        local n = #ARGV - 5
        for i = 1, n do
          local id = ARGV[5 + i]
          local marker = KEYS[2 * i]
          local ev = KEYS[2 * i + 1]
          local status, payload, owner = 'gone', '', ''
          local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
          if #p == 1 then
            if p[1][2] ~= ARGV[2] then
              status = 'other'
            else
              local body = redis.call('HGET', ev, 'b')
              if not body then
                redis.call('XACK', KEYS[1], ARGV[1], id)
                redis.call('XDEL', KEYS[1], id)
              else
                local m = redis.call('GET', marker)
                if (not m) or m == ARGV[2] then
                  redis.call('SET', marker, ARGV[2], 'PX', ARGV[4])
                  status = 'ok'
                  payload = body
                elseif ARGV[5] ~= '1' or redis.call('EXISTS', ARGV[3] .. m) == 1 then
                  status = 'busy'
                else
                  status = 'orphan'
                  payload = body
                  owner = m
                end
              end
            end
          end
          out[#out + 1] = status
          out[#out + 1] = payload
          out[#out + 1] = owner
        end
        return out
        """;

    /// <summary>
    /// Ends entries for a destination. KEYS: stream, dead-letter hash, live-event counter, then per entry its event hash
    /// and send marker. ARGV: group, kind ("d" delivered or dropped, "x" dead-lettered), then per entry: id, dead-letter
    /// field, dead-letter value. Only the first acknowledgement of an entry counts (XACK returns 1 once), so a late
    /// completion from an instance presumed dead changes nothing twice.
    /// </summary>
    public const string Complete = """
        local n = (#KEYS - 3) / 2
        for i = 1, n do
          local id = ARGV[3 * i]
          local ev = KEYS[2 + 2 * i]
          if redis.call('XACK', KEYS[1], ARGV[1], id) == 1 then
            redis.call('XDEL', KEYS[1], id)
            if ARGV[2] == 'x' then
              redis.call('HSET', KEYS[2], ARGV[3 * i + 1], ARGV[3 * i + 2])
            elseif redis.call('HINCRBY', ev, 'n', -1) <= 0 then
              redis.call('DEL', ev)
              redis.call('DECR', KEYS[3])
            end
          end
          redis.call('DEL', KEYS[3 + 2 * i])
        end
        return n
        """;

    /// <summary>Replays a dead letter. KEYS: dead-letter hash, stream. ARGV: field, seq, ready ms. Returns 1 when replayed.</summary>
    public const string Replay = """
        if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
          redis.call('XADD', KEYS[2], '*', 's', ARGV[2], 'r', ARGV[3])
          return 1
        end
        return 0
        """;

    /// <summary>Discards an expired dead letter. KEYS: dead-letter hash, event hash, live-event counter. ARGV: field.</summary>
    public const string Expire = """
        if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
          if redis.call('HINCRBY', KEYS[2], 'n', -1) <= 0 then
            redis.call('DEL', KEYS[2])
            redis.call('DECR', KEYS[3])
          end
          return 1
        end
        return 0
        """;
}
