/** The dashboard page: structure only; script.ts fills it from /events. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>ztgate · live</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body data-state="connecting" data-rps="0" data-windows="0" data-requests="0">
<header>
  <h1>ztgate <span>live</span></h1>
  <p id="state" class="state">connecting…</p>
  <p id="processes" class="processes"></p>
</header>
<main>
  <section class="cards">
    <div class="card"><h2>requests/s</h2><p id="card-rps" data-value="0">–</p></div>
    <div class="card"><h2>4xx/s · 5xx/s</h2><p id="card-errors" data-value="0">–</p></div>
    <div class="card"><h2>p99 gateway</h2><p id="card-gateway" data-value="">–</p></div>
    <div class="card"><h2>p99 upstream</h2><p id="card-upstream" data-value="">–</p></div>
    <div class="card"><h2>rate-limited/s</h2><p id="card-limited" data-value="0">–</p></div>
    <div class="card"><h2>blocked/s</h2><p id="card-blocked" data-value="0">–</p></div>
  </section>
  <section class="charts">
    <figure><figcaption>Requests per second</figcaption><svg id="chart-rps" class="chart" viewBox="0 0 600 180" role="img" aria-label="requests per second" data-points="0"></svg><div class="legend" id="legend-rps"></div></figure>
    <figure><figcaption>Latency (ms): gateway vs upstream</figcaption><svg id="chart-latency" class="chart" viewBox="0 0 600 180" role="img" aria-label="latency percentiles" data-points="0"></svg><div class="legend" id="legend-latency"></div></figure>
    <figure><figcaption>Refused per second</figcaption><svg id="chart-refused" class="chart" viewBox="0 0 600 180" role="img" aria-label="refused requests" data-points="0"></svg><div class="legend" id="legend-refused"></div></figure>
  </section>
  <section class="tables">
    <div><h2>Top routes (last minute)</h2><table id="top-routes"><thead><tr><th>route</th><th>requests</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Top consumers (last minute)</h2><table id="top-consumers"><thead><tr><th>consumer</th><th>requests</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Upstreams</h2><table id="upstreams"><thead><tr><th>upstream</th><th>p99 ms</th><th>health</th></tr></thead><tbody></tbody></table></div>
    <div><h2>Recent alerts</h2><ul id="alerts" data-count="0"><li class="muted">none</li></ul></div>
  </section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;
