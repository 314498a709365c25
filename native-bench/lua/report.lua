-- wrk report script for the native comparison bench (scripts/bench-native.mjs).
--
--   wrk -t1 -c64 -d5s -s native-bench/lua/report.lua http://127.0.0.1:PORT/
--
-- It only defines done(), so wrk keeps its fast C path for requests and
-- responses (defining request()/response() would slow the load generator).
-- done() prints ONE line of JSON after wrk's own text report, e.g.
--   {"report":"wrk","requests":..,"duration_s":..,"rps":..,"p50_ms":..,...}
-- Fields:
--   requests            completed responses (any status)
--   duration_s          measured wall time of the run
--   rps                 requests / duration_s
--   bytes               bytes read from the server
--   mean_ms, stdev_ms, max_ms, p50_ms, p90_ms, p99_ms, p999_ms
--                       latency (wrk's HdrHistogram-like stats, recorded per
--                       request from write of the request to end of response)
--   errors_connect, errors_read, errors_write, errors_timeout
--                       socket errors as wrk counts them
--   non2xx              responses wrk counts as status errors: in wrk 4.x that
--                       is every status >= 400 (1xx/3xx are not counted)
--   errors_total        sum of all of the above error counters

local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

local function int(x)
  return string.format("%d", x)
end

function done(summary, latency, requests)
  local dur_s = summary.duration / 1e6
  local e = summary.errors
  local total_err = e.connect + e.read + e.write + e.timeout + e.status
  local rps = 0
  if dur_s > 0 then rps = summary.requests / dur_s end
  local parts = {
    '"report":"wrk"',
    '"requests":' .. int(summary.requests),
    '"duration_s":' .. num(dur_s),
    '"rps":' .. num(rps),
    '"bytes":' .. int(summary.bytes),
    '"mean_ms":' .. num(latency.mean / 1000),
    '"stdev_ms":' .. num(latency.stdev / 1000),
    '"max_ms":' .. num(latency.max / 1000),
    '"p50_ms":' .. num(latency:percentile(50) / 1000),
    '"p90_ms":' .. num(latency:percentile(90) / 1000),
    '"p99_ms":' .. num(latency:percentile(99) / 1000),
    '"p999_ms":' .. num(latency:percentile(99.9) / 1000),
    '"errors_connect":' .. int(e.connect),
    '"errors_read":' .. int(e.read),
    '"errors_write":' .. int(e.write),
    '"errors_timeout":' .. int(e.timeout),
    '"non2xx":' .. int(e.status),
    '"errors_total":' .. int(total_err),
  }
  io.write("{" .. table.concat(parts, ",") .. "}\n")
end
