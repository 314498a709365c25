/**
 * The quota check as one Lua script, run atomically by the store: it reads
 * every bucket of the request, decides, and writes the new state before any
 * other client's command runs, so two gateways can never both spend the last
 * unit (the read-then-write race of a GET followed by a SET).
 *
 * Buckets are GCRA (see src/ratelimit/gcra.ts), the same arithmetic as the
 * local limiter, kept as one string per key: the TATs of its limits in
 * microseconds of the store's own clock (`TIME`), so the gateways' clocks
 * never matter. A key expires when every bucket is full again.
 *
 * KEYS: one per group of limits sharing a key.
 * ARGV: mode ('c' check and charge if all admit; 'd' debit unconditionally,
 *       capped: hits admitted while the store was away, or with a negative
 *       cost a refund: a check charged after its request was refused), then per key:
 *       cost, limit count n, then n pairs of intervalUs and toleranceUs,
 *       and (mode 'd') the debt cap in tolerances.
 * Returns: { allowed (1|0), keyIndex, limitIndex, remaining, resetMs, retryAfterMs (-1: never) }
 *       for the most constraining bucket (the refusing one, or the one with the fewest units left).
 */
export const QUOTA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local mode = ARGV[1]
local a = 2
local specs = {}
local states = {}
for k = 1, #KEYS do
  local cost = tonumber(ARGV[a])
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  local limits = {}
  for i = 1, n do
    limits[i] = { tonumber(ARGV[a]), tonumber(ARGV[a + 1]) }
    a = a + 2
  end
  local cap = 0
  if mode == 'd' then
    cap = tonumber(ARGV[a])
    a = a + 1
  end
  specs[k] = { cost, limits, cap }
  local tats = {}
  local raw = redis.call('GET', KEYS[k])
  if raw then
    local i = 1
    for v in string.gmatch(raw, '[^,]+') do
      tats[i] = tonumber(v)
      i = i + 1
    end
  end
  states[k] = tats
end
local refusedKey, refusedLimit, worstRetry, worstReset = 0, 0, 0, 0
local minKey, minLimit, minRemaining, minReset = 1, 1, -1, 0
if mode == 'c' then
  for k = 1, #KEYS do
    local cost, limits = specs[k][1], specs[k][2]
    for i = 1, #limits do
      local interval, tolerance = limits[i][1], limits[i][2]
      local tat = states[k][i]
      local base = now
      if tat and tat > now then base = tat end
      local nextTat = base + cost * interval
      local over = nextTat - now - tolerance
      if over > 0 then
        local retry = over
        if cost * interval > tolerance then retry = -1 end
        if refusedKey == 0 or (worstRetry ~= -1 and (retry == -1 or retry > worstRetry)) then
          refusedKey, refusedLimit, worstRetry, worstReset = k, i, retry, base - now
        end
      else
        local remaining = math.floor((tolerance - (nextTat - now)) / interval)
        if minRemaining == -1 or remaining < minRemaining then
          minKey, minLimit, minRemaining, minReset = k, i, remaining, nextTat - now
        end
      end
    end
  end
  if refusedKey ~= 0 then
    local retryMs = -1
    if worstRetry ~= -1 then retryMs = math.ceil(worstRetry / 1000) end
    return { 0, refusedKey - 1, refusedLimit - 1, 0, math.ceil(worstReset / 1000), retryMs }
  end
end
for k = 1, #KEYS do
  local cost, limits, cap = specs[k][1], specs[k][2], specs[k][3]
  local out = {}
  local ttl = 0
  for i = 1, #limits do
    local interval, tolerance = limits[i][1], limits[i][2]
    local tat = states[k][i]
    local base = now
    if tat and tat > now then base = tat end
    local nextTat = base + cost * interval
    if mode == 'd' and nextTat > now + tolerance * (1 + cap) then nextTat = now + tolerance * (1 + cap) end
    out[i] = string.format('%.0f', nextTat)
    if nextTat - now > ttl then ttl = nextTat - now end
  end
  if ttl > 0 then
    redis.call('SET', KEYS[k], table.concat(out, ','), 'PX', math.ceil(ttl / 1000) + 1)
  else
    redis.call('DEL', KEYS[k])
  end
end
if minRemaining == -1 then minRemaining = 0 end
return { 1, minKey - 1, minLimit - 1, minRemaining, math.ceil(minReset / 1000), 0 }
`;
