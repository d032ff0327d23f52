-- wrk script for the realistic mix: paths (one per line, most popular first) drawn
-- Zipf(s) with a seeded generator; the harness's report hook prints the result line.
--   REPORT_LUA=<the harness's report.lua> wrk ... -s mix.lua <url> -- <urls file> <zipf s> <seed>
local paths, cdf = {}, {}
dofile(os.getenv("REPORT_LUA")) -- done(): the machine-readable result line

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  local s = tonumber(args[2])
  local sum = 0
  for i = 1, #paths do sum = sum + 1 / i ^ s; cdf[i] = sum end
  for i = 1, #paths do cdf[i] = cdf[i] / sum end
  math.randomseed(tonumber(args[3]))
end

function request()
  local u, lo, hi = math.random(), 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", paths[lo])
end
