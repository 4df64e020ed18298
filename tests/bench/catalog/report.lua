-- report.lua — wrk script of tests/bench/catalog/run: one machine-readable
-- line at the end of a run (latencies in ms, wrk measures them in µs).
--   RESULT requests=N rps=R p50=.. p90=.. p99=.. max=.. non2xx=N errors=N

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50=%.3f p90=%.3f p99=%.3f max=%.3f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
