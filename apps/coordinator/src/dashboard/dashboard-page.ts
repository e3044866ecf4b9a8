// The live dashboard: one page that the coordinator pushes the run's status to over Socket.IO (namespace
// /dashboard, live-dashboard.ts) and that redraws on every push; the round's deadline counts down between pushes
// against the coordinator's clock. Self-contained: its only script besides its own is the Socket.IO client, served
// by the coordinator (/dashboard/socket.io.min.js); no fonts, styles or scripts from elsewhere, so it works on an
// isolated network. Text is inserted with textContent, never as HTML.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fedtl coordinator</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1rem; margin: 1.4rem 0 .5rem; }
  .muted { color: #667085; } .cards { display: flex; gap: .8rem; flex-wrap: wrap; margin-top: 1rem; }
  .card { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: .7rem 1rem; min-width: 9rem; }
  .card b { display: block; font-size: 1.4rem; }
  table { border-collapse: collapse; background: #fff; border: 1px solid #e3e6ec; }
  th, td { padding: .35rem .7rem; border-bottom: 1px solid #eef0f4; text-align: right; }
  th:first-child, td:first-child { text-align: left; } th { background: #f0f2f6; font-weight: 600; }
  .failed { color: #b42318; } .ok { color: #067647; } svg { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; }
  #error { color: #b42318; }
</style>
</head>
<body>
<h1>fedtl coordinator</h1>
<div class="muted"><b id="phase">…</b> · run <span id="run-id">…</span> · backbone <span id="backbone">…</span> · <span id="updated">connecting…</span></div>
<div id="error"></div>
<div class="cards">
  <div class="card">rounds<b id="rounds">–</b></div>
  <div class="card">clients connected<b id="clients-count">–</b></div>
  <div class="card">accuracy (last round)<b id="accuracy">–</b></div>
  <div class="card">failed attempts<b id="failed">–</b></div>
  <div class="card"><span id="deadline-what">deadline</span><b id="deadline">–</b></div>
  <div class="card">traffic up / down<b id="traffic">–</b></div>
  <div class="card">last round up / down<b id="round-traffic">–</b></div>
  <div class="card">privacy spent (ε)<b id="privacy">–</b></div>
</div>
<h2>Accuracy of the global model per round</h2>
<svg id="chart" width="640" height="220" viewBox="0 0 640 220" role="img" aria-label="accuracy per round"></svg>
<h2>Clients</h2>
<table id="clients"><thead><tr><th>client</th><th>training examples</th><th>joined</th><th>privacy policy</th><th>accuracy</th></tr></thead><tbody></tbody></table>
<h2>Refused joins</h2>
<table id="refused-joins"><thead><tr><th>client</th><th>code</th><th>why</th><th>at</th></tr></thead><tbody></tbody></table>
<h2>Rounds</h2>
<table id="rounds-table"><thead><tr><th>round</th><th>status</th><th>accepted / selected</th><th>left out</th><th>accuracy</th><th>macro-F1</th><th>loss</th><th>up</th><th>down</th><th>seconds</th></tr></thead><tbody></tbody></table>
<script src="dashboard/socket.io.min.js"></script>
<script>
(function () {
  var token = new URLSearchParams(location.search).get('token');
  var svgNs = 'http://www.w3.org/2000/svg';
  function $(id) { return document.getElementById(id); }
  function pct(v) { return typeof v === 'number' ? (v * 100).toFixed(1) + '%' : '–'; }
  function num(v, digits) { return typeof v === 'number' ? v.toFixed(digits) : '–'; }
  // "812 B", "41.3 kB", "12.07 MB": a small model's round is kilobytes, a large one's megabytes.
  function bytes(n) { return n < 1e3 ? n + ' B' : n < 1e6 ? (n / 1e3).toFixed(1) + ' kB' : (n / 1e6).toFixed(2) + ' MB'; }
  function row(cells, className) {
    var tr = document.createElement('tr');
    if (className) tr.className = className;
    cells.forEach(function (text) { var td = document.createElement('td'); td.textContent = text; tr.appendChild(td); });
    return tr;
  }
  function fill(tbody, rows) { tbody.replaceChildren.apply(tbody, rows); }
  function svg(name, attrs) {
    var el = document.createElementNS(svgNs, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }
  function drawChart(rounds) {
    var chart = $('chart'), w = 640, h = 220, pad = 36;
    var points = rounds.filter(function (r) { return r.status === 'aggregated' && typeof r.evaluation.accuracy === 'number'; });
    var children = [svg('line', { x1: pad, y1: h - pad, x2: w - 10, y2: h - pad, stroke: '#98a2b3' }), svg('line', { x1: pad, y1: 10, x2: pad, y2: h - pad, stroke: '#98a2b3' })];
    [0, 0.5, 1].forEach(function (v) {
      var y = h - pad - v * (h - pad - 10);
      var label = svg('text', { x: 4, y: y + 4, 'font-size': 11, fill: '#667085' }); label.textContent = (v * 100) + '%'; children.push(label);
    });
    if (points.length > 0) {
      var last = points[points.length - 1].round, first = points[0].round, span = Math.max(1, last - first);
      var xy = points.map(function (r) {
        var x = pad + ((r.round - first) / span) * (w - pad - 20);
        var y = h - pad - r.evaluation.accuracy * (h - pad - 10);
        return [x, y, r];
      });
      children.push(svg('polyline', { points: xy.map(function (p) { return p[0] + ',' + p[1]; }).join(' '), fill: 'none', stroke: '#2e6bd1', 'stroke-width': 2 }));
      xy.forEach(function (p) {
        var dot = svg('circle', { cx: p[0], cy: p[1], r: 3.5, fill: '#2e6bd1', 'data-round': p[2].round });
        var title = svg('title', {}); title.textContent = 'round ' + p[2].round + ': ' + pct(p[2].evaluation.accuracy); dot.appendChild(title);
        children.push(dot);
      });
      var axis = svg('text', { x: w - 90, y: h - 12, 'font-size': 11, fill: '#667085' }); axis.textContent = 'rounds ' + first + '–' + last; children.push(axis);
    }
    chart.replaceChildren.apply(chart, children);
  }
  // "1.92 of 4 at δ = 1e-05 (client-level)"; "off" without differential privacy.
  function privacyText(p) {
    if (!p) return 'off (no differential privacy)';
    var spent = p.spent.length > 0 ? p.spent[0].epsilon.toFixed(2) : '0';
    return spent + (p.budget ? ' of ' + p.budget.epsilon : '') + ' at δ = ' + p.delta + ' (' + p.mechanism.unit + '-level)';
  }
  function phaseText(s) {
    if (s.verdict && s.verdict.status === 'failed') return 'failed (' + s.verdict.error.code + '): ' + s.verdict.error.message;
    if (s.verdict) return 'finished';
    return s.phase + (s.roundInProgress ? ' (round ' + s.roundInProgress + ')' : '');
  }
  // The deadline counts down against the coordinator's clock: skew = its clock minus ours, at the last push.
  var deadline = { at: undefined, skewMs: 0 };
  var DEADLINE_WHAT = { training: 'round closes in', evaluating: 'evaluation closes in', 'waiting for clients': 'quorum wait ends in' };
  function clock(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000)), h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), sec = total % 60;
    var mmss = (h > 0 && m < 10 ? '0' : '') + m + ':' + (sec < 10 ? '0' : '') + sec;
    return h > 0 ? h + ':' + mmss : mmss;
  }
  function tick() {
    $('deadline').textContent = deadline.at === undefined ? '–' : clock(deadline.at - (Date.now() + deadline.skewMs));
  }
  function render(s) {
    $('phase').textContent = phaseText(s);
    deadline = { at: s.verdict ? undefined : s.deadline, skewMs: s.now - Date.now() };
    $('deadline-what').textContent = (deadline.at !== undefined && DEADLINE_WHAT[s.phase]) || 'deadline';
    tick();
    $('run-id').textContent = s.runId;
    $('backbone').textContent = s.backbone.id + ' (' + s.backbone.contentHash.slice(0, 12) + '…, ' + s.backbone.dim + '-d)';
    $('rounds').textContent = s.roundsCompleted + ' / ' + s.roundsPlanned + (s.secureAggregation ? ' (secure aggregation)' : '');
    $('clients-count').textContent = String(s.clientsConnected);
    $('failed').textContent = String(s.counters.roundsFailed);
    $('traffic').textContent = bytes(s.counters.bytesUp) + ' / ' + bytes(s.counters.bytesDown);
    var lastRound = s.rounds[s.rounds.length - 1];
    $('round-traffic').textContent = lastRound ? bytes(lastRound.bytesUp) + ' / ' + bytes(lastRound.bytesDown) : '–';
    $('privacy').textContent = privacyText(s.privacy);
    var aggregated = s.rounds.filter(function (r) { return r.status === 'aggregated'; });
    var last = aggregated[aggregated.length - 1];
    $('accuracy').textContent = last ? pct(last.evaluation.accuracy) : '–';
    var empty = s.view === 'federation' ? 'other organisations are shown to the operator only' : 'none connected';
    fill($('clients').tBodies[0], s.clients.length === 0 ? [row([empty, '', '', '', ''])] : s.clients.map(function (c) {
      var metrics = last && last.clients[c.clientId];
      return row([c.clientId, String(c.numTrainExamples), new Date(c.joinedAt).toLocaleTimeString(), c.privacyPolicy, pct(metrics && metrics.accuracy)]);
    }));
    var refused = s.refusedJoins.slice(-10).reverse();
    fill($('refused-joins').tBodies[0], refused.length === 0 ? [row(['none', '', '', ''])] : refused.map(function (r) {
      return row([r.clientId || '(undecodable join)', r.code.replace('FEDTL_ERR_', ''), r.message, new Date(r.at).toLocaleTimeString()], 'failed');
    }));
    fill($('rounds-table').tBodies[0], s.rounds.slice().reverse().map(function (r) {
      var codes = r.failures.map(function (f) { return f.clientId + ': ' + f.code.replace('FEDTL_ERR_', ''); }).join(', ');
      return row([String(r.round) + (r.attempt > 1 ? ' (attempt ' + r.attempt + ')' : ''), r.status, r.acceptedCount + ' / ' + r.selectedCount, codes || '–',
        pct(r.evaluation.accuracy), num(r.evaluation.macroF1, 3), num(r.train.loss, 4), bytes(r.bytesUp), bytes(r.bytesDown), num(r.seconds, 1)], r.status === 'failed' ? 'failed' : 'ok');
    }));
    drawChart(s.rounds);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('error').textContent = '';
  }
  var socket = io('/dashboard', { transports: ['websocket'], query: { 'fedtl-dashboard': '1' }, auth: { token: token || '' } });
  socket.on('status', render);
  socket.on('connect_error', function (err) {
    // Refused (a wrong token): the client does not retry; a lost coordinator: it does, and says so.
    $('error').textContent = 'cannot connect to the coordinator: ' + err.message + (socket.active ? '; retrying' : '');
  });
  socket.on('disconnect', function (reason) {
    $('updated').textContent = 'disconnected (' + reason + ')' + (socket.active ? '; reconnecting…' : '');
  });
  setInterval(tick, 250);
})();
</script>
</body>
</html>
`;
