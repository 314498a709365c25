/**
 * The dashboard's script (plain browser JavaScript, served as /dashboard.js).
 * Token: taken from the URL fragment (#token=…, never sent to a server), kept
 * in sessionStorage, removed from the address bar, and passed to EventSource
 * as ?token= (EventSource cannot set headers). Charts are hand-drawn SVG
 * paths over a time axis. The latest values are also exposed as data-* attributes for tests
 * and scripts.
 */
export const DASHBOARD_JS = `'use strict';
(function () {
  var KEEP = 120;
  var SVG = 'http://www.w3.org/2000/svg';
  var windows = [];
  var total = 0;
  var body = document.body;

  function token() {
    var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      try { sessionStorage.setItem('ztgate-admin-token', decodeURIComponent(m[1])); } catch (e) {}
      history.replaceState(null, '', location.pathname);
      return decodeURIComponent(m[1]);
    }
    try { return sessionStorage.getItem('ztgate-admin-token'); } catch (e) { return null; }
  }

  function el(id) { return document.getElementById(id); }
  function text(node, s) { node.textContent = s; }
  function fmt(n) {
    if (n === null || n === undefined || isNaN(n)) return '–';
    if (n >= 1000) return Math.round(n).toLocaleString('en');
    if (n >= 10) return n.toFixed(1);
    return n.toFixed(2);
  }
  function state(s, label) {
    body.setAttribute('data-state', s);
    var node = el('state');
    node.className = 'state ' + (s === 'live' ? 'live' : s === 'down' || s === 'refused' ? 'down' : '');
    text(node, label);
  }
  function p(w, kind, q) { var l = w.latency && w.latency[kind]; return l ? l[q] : null; }

  // The x axis is time: each window is drawn over the seconds it covers (a 10 s window is ten
  // times as wide as a 1 s one), and a stretch without windows is left blank, not bridged.
  var SPAN_MS = 60000, GAP_MS = 1500;
  function chart(id, legendId, series) {
    var svg = el(id);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = 600, H = 180, L = 44, R = 8, T = 8, B = 20;
    var max = 0, points = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v > max) max = v; }); });
    if (max <= 0) max = 1;
    var nice = Math.pow(10, Math.floor(Math.log(max) / Math.LN10));
    max = Math.ceil(max / nice) * nice;
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - T - B) * g / 4;
      var line = document.createElementNS(SVG, 'line');
      line.setAttribute('x1', L); line.setAttribute('x2', W - R); line.setAttribute('y1', y); line.setAttribute('y2', y);
      line.setAttribute('class', 'grid');
      svg.appendChild(line);
      axisLabel(svg, L - 6, y + 4, 'end', fmt(max * (4 - g) / 4));
    }
    var end = windows.length ? windows[windows.length - 1].time : Date.now();
    var start = end - SPAN_MS;
    windows.forEach(function (w) { var s0 = w.time - w.seconds * 1000; if (s0 < start) start = s0; });
    var x = function (t) { return L + (W - L - R) * (t - start) / (end - start); };
    var step = tickStep((end - start) / 1000);
    for (var ago = 0; ago * 1000 <= end - start; ago += step) {
      axisLabel(svg, x(end - ago * 1000), H - 4, ago === 0 ? 'end' : 'middle', ago === 0 ? 'now' : '-' + ago + ' s');
    }
    series.forEach(function (s) {
      var d = '', drawn = 0, prevEnd = null;
      s.values.forEach(function (v, i) {
        var w = windows[i];
        if (v === null || !w) { prevEnd = null; return; }
        var t0 = w.time - w.seconds * 1000, yy = (T + (H - T - B) * (1 - v / max)).toFixed(1);
        d += (prevEnd !== null && t0 - prevEnd <= GAP_MS ? ' L' : ' M') + x(t0).toFixed(1) + ',' + yy + ' L' + x(w.time).toFixed(1) + ',' + yy;
        prevEnd = w.time;
        drawn++;
      });
      var path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', d.trim());
      path.setAttribute('stroke', s.color);
      path.setAttribute('data-series', s.name);
      var last = s.values.length ? s.values[s.values.length - 1] : null;
      path.setAttribute('data-latest', last === null || last === undefined ? '' : String(last));
      path.setAttribute('data-segments', String((d.match(/M/g) || []).length));
      svg.appendChild(path);
      if (drawn > points) points = drawn;
    });
    svg.setAttribute('data-points', String(points));
    svg.setAttribute('data-max', String(max));
    svg.setAttribute('data-span-seconds', String(Math.round((end - start) / 1000)));
    var legend = el(legendId);
    if (!legend.childNodes.length) {
      series.forEach(function (s) {
        var span = document.createElement('span');
        var i = document.createElement('i');
        i.style.background = s.color;
        span.appendChild(i);
        span.appendChild(document.createTextNode(s.name));
        legend.appendChild(span);
      });
    }
  }
  function axisLabel(svg, x, y, anchor, s) {
    var label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', x); label.setAttribute('y', y); label.setAttribute('text-anchor', anchor);
    label.setAttribute('class', 'axis');
    label.textContent = s;
    svg.appendChild(label);
  }
  /** Seconds between time labels: about four of them across the span. */
  function tickStep(spanSeconds) {
    var steps = [15, 30, 60, 120, 300, 600, 1200];
    for (var i = 0; i < steps.length; i++) if (spanSeconds / steps[i] <= 5) return steps[i];
    return 3600;
  }

  function rows(tableId, data) {
    var tbody = el(tableId).querySelector('tbody');
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (!data.length) {
      var tr0 = document.createElement('tr');
      var td0 = document.createElement('td');
      td0.className = 'muted'; td0.textContent = 'none yet';
      tr0.appendChild(td0);
      tbody.appendChild(tr0);
    }
    data.forEach(function (cells) {
      var tr = document.createElement('tr');
      cells.forEach(function (c) {
        var td = document.createElement('td');
        if (c && typeof c === 'object') { td.textContent = c.text; td.className = c.cls; } else td.textContent = String(c);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }

  function topOf(key) {
    var sums = {};
    var since = windows.length ? windows[windows.length - 1].time - SPAN_MS : 0;
    windows.filter(function (w) { return w.time > since; }).forEach(function (w) { (w[key] || []).forEach(function (e) { sums[e[0]] = (sums[e[0]] || 0) + e[1]; }); });
    return Object.keys(sums).map(function (k) { return [k, sums[k]]; }).sort(function (a, b) { return b[1] - a[1]; }).slice(0, 8);
  }

  function processes(ps) {
    if (!ps) return;
    text(el('processes'), ps.listening + '/' + ps.configured + ' processes listening · ' + ps.restarts + ' restarts · config generation ' + ps.configGeneration);
    body.setAttribute('data-processes', String(ps.listening));
  }

  function upstreams(list) {
    if (!list) return;
    rows('upstreams', list.map(function (u) {
      var targets = u.targets ? Object.keys(u.targets) : [];
      var down = targets.filter(function (t) { return !u.targets[t]; });
      var health = !targets.length ? { text: 'not reported', cls: 'muted' } : down.length ? { text: down.length + ' of ' + targets.length + ' down', cls: 'bad' } : { text: 'all ' + targets.length + ' up', cls: 'ok' };
      return [u.upstream, u.p99 === null ? '–' : fmt(u.p99), health];
    }));
  }

  function alerts(list) {
    var ul = el('alerts');
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    if (!list.length) { var none = document.createElement('li'); none.className = 'muted'; none.textContent = 'none'; ul.appendChild(none); }
    list.slice(0, 50).forEach(function (a) {
      var li = document.createElement('li');
      var b = document.createElement('b'); b.textContent = a.kind;
      li.appendChild(b);
      li.appendChild(document.createTextNode(new Date(a.time).toLocaleTimeString() + ' ' + a.subject + (a.detail ? ' — ' + a.detail : '')));
      ul.appendChild(li);
    });
    ul.setAttribute('data-count', String(list.length));
  }
  var alertList = [];

  function render() {
    var w = windows[windows.length - 1];
    body.setAttribute('data-windows', String(windows.length));
    body.setAttribute('data-requests', String(total));
    if (!w) return;
    var per = function (n) { return n / (w.seconds || 1); };
    body.setAttribute('data-rps', String(w.rps));
    var set = function (id, value, shown) { var node = el(id); node.setAttribute('data-value', value === null ? '' : String(value)); text(node, shown); };
    set('card-rps', w.rps, fmt(w.rps));
    set('card-errors', w.status['4xx'] + w.status['5xx'], fmt(per(w.status['4xx'])) + ' · ' + fmt(per(w.status['5xx'])));
    set('card-gateway', p(w, 'gateway', 'p99'), p(w, 'gateway', 'p99') === null ? '–' : fmt(p(w, 'gateway', 'p99')) + ' ms');
    set('card-upstream', p(w, 'upstream', 'p99'), p(w, 'upstream', 'p99') === null ? '–' : fmt(p(w, 'upstream', 'p99')) + ' ms');
    set('card-limited', per(w.rateLimited), fmt(per(w.rateLimited)));
    set('card-blocked', per(w.blocked), fmt(per(w.blocked)));
    var col = function (f) { return windows.map(f); };
    chart('chart-rps', 'legend-rps', [
      { name: 'all', color: '#4ea1ff', values: col(function (x) { return x.rps; }) },
      { name: '4xx', color: '#ffb454', values: col(function (x) { return x.status['4xx'] / (x.seconds || 1); }) },
      { name: '5xx', color: '#ff6b6b', values: col(function (x) { return x.status['5xx'] / (x.seconds || 1); }) },
    ]);
    chart('chart-latency', 'legend-latency', [
      { name: 'gateway p50', color: '#5fd38d', values: col(function (x) { return p(x, 'gateway', 'p50'); }) },
      { name: 'gateway p99', color: '#2e9e5b', values: col(function (x) { return p(x, 'gateway', 'p99'); }) },
      { name: 'upstream p50', color: '#c792ea', values: col(function (x) { return p(x, 'upstream', 'p50'); }) },
      { name: 'upstream p99', color: '#8e5cc2', values: col(function (x) { return p(x, 'upstream', 'p99'); }) },
    ]);
    chart('chart-refused', 'legend-refused', [
      { name: 'rate-limited', color: '#ffb454', values: col(function (x) { return x.rateLimited / (x.seconds || 1); }) },
      { name: 'blocked', color: '#ff6b6b', values: col(function (x) { return x.blocked / (x.seconds || 1); }) },
      { name: 'identity failures', color: '#4ea1ff', values: col(function (x) { return x.identityFailures / (x.seconds || 1); }) },
    ]);
    rows('top-routes', topOf('topRoutes'));
    rows('top-consumers', topOf('topConsumers'));
  }

  function add(w) {
    windows.push(w);
    total += w.requests;
    if (windows.length > KEEP) windows.shift();
  }

  // A new #token=… pasted into the address bar is a same-document navigation: start over with it.
  window.addEventListener('hashchange', function () { if (/token=/.test(location.hash)) location.reload(); });
  var t = token();
  if (!t) { state('down', 'no token: open /dashboard#token=… (see the README)'); return; }
  var source = new EventSource('/events?token=' + encodeURIComponent(t));
  source.addEventListener('hello', function (e) {
    var d = JSON.parse(e.data);
    windows = []; total = 0;
    (d.windows || []).forEach(add);
    alertList = d.alerts || [];
    processes(d.processes); upstreams(d.upstreams); alerts(alertList);
    connected = true;
    state('live', 'live');
    render();
  });
  source.addEventListener('window', function (e) {
    var d = JSON.parse(e.data);
    add(d.window);
    processes(d.processes); upstreams(d.upstreams);
    state('live', 'live');
    render();
  });
  source.addEventListener('alert', function (e) {
    alertList.unshift(JSON.parse(e.data));
    if (alertList.length > 100) alertList.pop();
    alerts(alertList);
  });
  var connected = false;
  // EventSource does not say why it failed: ask once, so a refused token is told apart from a gateway that is away.
  source.onerror = function () {
    if (connected) return state('down', 'disconnected: retrying');
    fetch('/stats', { headers: { authorization: 'Bearer ' + t }, cache: 'no-store' }).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        source.close();
        try { sessionStorage.removeItem('ztgate-admin-token'); } catch (e) {}
        state('refused', 'token refused: open /dashboard#token=… with the admin token');
      } else state('down', 'disconnected: retrying');
    }, function () { state('down', 'disconnected: retrying'); });
  };
})();
`;
