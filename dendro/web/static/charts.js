/* Charts page: fetch the service's chart data from the JSON API and draw it with uPlot.
   Every value drawn comes from the API; nothing is made up here.
   - every panel of the page shares one time axis (the range, and the forecast's horizon when a
     panel has one): the same x values, one crosshair, one zoom (double-click resets them all);
   - no data is a gap (a lone point is drawn as a dot); a partial bin is shaded "filling";
   - each y axis has one unit (the API's chart.axis), written once beside the axis;
   - a click on a point opens the logs of that service, table and minute (the bin, when longer). */
(function () {
  "use strict";
  var root = document.getElementById("charts");
  var status = document.getElementById("status");
  if (!root) { return; }
  var COLORS = ["#2f6fdf", "#2a9d5c", "#e0a100", "#d1495b", "#7b5ea7", "#00a3a3", "#8c6d31", "#555555"];
  var DASHES = [[], [6, 3], [2, 3], [10, 3, 2, 3], [1, 6]];
  var CLASS_COLORS = {"1xx": "#7b5ea7", "2xx": "#2a9d5c", "3xx": "#2f6fdf", "4xx": "#e0a100", "5xx": "#d1495b", "total": "#333333"};
  var plots = [];
  var timer = null;
  var syncing = false;
  window.dendroPlots = {};

  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }

  function params() {
    var q = new URLSearchParams();
    q.set("range", root.dataset.range || "1h");
    if (root.dataset.range === "custom") {
      q.set("start", root.dataset.start);
      q.set("end", root.dataset.end);
    }
    return q.toString();
  }

  /* A number in the axis' unit with the decimals the tick step has (0.25 → 2), or 3 significant. */
  function num(v, incr) {
    if (v == null || !isFinite(v)) { return "—"; }
    var decimals;
    if (incr) {
      var step = incr;
      decimals = 0;
      while (decimals < 6 && Math.abs(Math.round(step) - step) > 1e-6 * Math.max(1, Math.abs(step))) { step *= 10; decimals++; }
    }
    else { decimals = Math.abs(v) >= 100 || v === 0 ? 0 : Math.max(0, Math.min(4, 2 - Math.floor(Math.log10(Math.abs(v))))); }
    return v.toFixed(decimals);
  }

  function axisOf(chart) { return chart.axis || {unit: chart.unit || "", factor: 1}; }

  function legendValue(chart) {
    var axis = axisOf(chart);
    return function (u, v) { return v == null ? "—" : num(v * axis.factor) + " " + axis.unit; };
  }

  /* The page's one time axis: every chart's bins and every forecast's, in order. */
  function pageTimes(charts) {
    var seen = {};
    charts.forEach(function (c) {
      (c.x || []).forEach(function (t) { seen[t] = true; });
      if (c.forecast) { c.forecast.x.forEach(function (t) { seen[t] = true; }); }
    });
    return Object.keys(seen).map(Number).sort(function (a, b) { return a - b; });
  }

  function placed(xs, values, at) {
    var out = new Array(at.length).fill(null);
    xs.forEach(function (t, i) { if (values[i] != null && at.index[t] != null) { out[at.index[t]] = values[i]; } });
    return out;
  }

  function isolated(values) {
    return function () {
      var idx = [];
      values.forEach(function (v, i) { if (v != null && values[i - 1] == null && values[i + 1] == null) { idx.push(i); } });
      return idx;
    };
  }

  function countPoints(chart) {
    var n = 0;
    chart.series.forEach(function (s) { s.values.forEach(function (v) { if (v != null) { n++; } }); });
    return n;
  }

  function build(chart, at) {
    var data = [at];
    var series = [{}];
    var value = legendValue(chart);
    var hosts = [], parts = [];  // a series split on a tag: its host's colour, its part's dash
    chart.series.forEach(function (s) {
      if (s.part == null) { return; }
      if (hosts.indexOf(s.host) < 0) { hosts.push(s.host); }
      if (parts.indexOf(s.part) < 0) { parts.push(s.part); }
    });
    chart.series.forEach(function (s, i) {
      var values = placed(chart.x, s.values, at);
      data.push(values);
      var split = s.part != null;
      series.push({label: s.label, width: s.label === chart.analysed ? 2 : 1.5, spanGaps: false,
                   stroke: split ? COLORS[hosts.indexOf(s.host) % COLORS.length]
                                 : CLASS_COLORS[s.label] || COLORS[i % COLORS.length],
                   dash: split ? DASHES[parts.indexOf(s.part) % DASHES.length] : undefined,
                   points: {show: true, size: 5, filter: isolated(values)}, value: value});
    });
    var bands = [];
    if (chart.baseline) {
      var upperIdx = data.length;
      data.push(placed(chart.x, chart.baseline.upper, at));
      series.push({label: "baseline high", stroke: "rgba(47,111,223,0.25)", width: 1, points: {show: false}, value: value});
      data.push(placed(chart.x, chart.baseline.lower, at));
      series.push({label: "baseline low", stroke: "rgba(47,111,223,0.25)", width: 1, points: {show: false}, value: value});
      bands.push({series: [upperIdx, upperIdx + 1], fill: "rgba(47,111,223,0.10)"});
      var analysed = chart.series.filter(function (s) { return s.label === chart.analysed; })[0];
      var marks = chart.x.map(function () { return null; });
      chart.baseline.outliers.forEach(function (i) { marks[i] = analysed.values[i]; });
      data.push(placed(chart.x, marks, at));
      series.push({label: "outside baseline", stroke: "#d1495b", fill: "#d1495b", width: 0,
                   paths: function () { return null; }, points: {show: true, size: 8, space: 0, fill: "#d1495b"},
                   value: value});
    }
    var fc = chart.forecast;
    if (fc) {
      var fIdx = data.length;
      data.push(placed(fc.x, fc.mean, at));
      series.push({label: "forecast", stroke: "#7b5ea7", width: 2, dash: [6, 4], points: {show: false}, value: value});
      data.push(placed(fc.x, fc.upper, at));
      series.push({label: Math.round(fc.level * 100) + "% high", stroke: "rgba(123,94,167,0.3)", width: 1,
                   points: {show: false}, value: value});
      data.push(placed(fc.x, fc.lower, at));
      series.push({label: Math.round(fc.level * 100) + "% low", stroke: "rgba(123,94,167,0.3)", width: 1,
                   points: {show: false}, value: value});
      bands.push({series: [fIdx + 1, fIdx + 2], fill: "rgba(123,94,167,0.12)"});
    }
    return {data: data, series: series, bands: bands};
  }

  /* Shade the bins measured over part of their length: drawn, never judged. */
  function shadePartial(chart, step) {
    return function (u) {
      if (!chart.partial || !chart.partial.length) { return; }
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(120,120,120,0.12)";
      ctx.font = Math.round(10 * devicePixelRatio) + "px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      chart.partial.forEach(function (i) {
        var left = u.valToPos(chart.x[i], "x", true);
        var right = u.valToPos(chart.x[i] + step, "x", true);
        ctx.fillRect(left, u.bbox.top, Math.max(1, right - left), u.bbox.height);
        if (right - left > ctx.measureText("partial").width + 4 * devicePixelRatio) {  // the label fits in it
          ctx.fillStyle = "rgba(80,80,80,0.8)";
          ctx.fillText("partial", left + 2 * devicePixelRatio, u.bbox.top + 2 * devicePixelRatio);
          ctx.fillStyle = "rgba(120,120,120,0.12)";
        }
      });
      ctx.restore();
    };
  }

  function logsUrl(chart, t, step) {
    var start = step < 60 ? Math.floor(t / 60) * 60 : t;
    var end = start + Math.max(60, step);
    var q = new URLSearchParams();
    q.set("service", root.dataset.service);
    q.set("table", chart.logs.table);
    if (chart.logs.level) { q.set("level", chart.logs.level); }
    q.set("range", "custom");
    q.set("start", new Date(start * 1e3).toISOString().slice(0, 19));
    q.set("end", new Date(end * 1e3).toISOString().slice(0, 19));
    return root.dataset.logs + "?" + q.toString();
  }

  /* One click (not a drag) on the plot opens the logs of the point under the cursor. */
  function clickToLogs(chart, step) {
    return function (u) {
      var down = null;
      u.over.addEventListener("mousedown", function (e) { down = [e.clientX, e.clientY]; });
      u.over.addEventListener("click", function (e) {
        if (!down || Math.abs(e.clientX - down[0]) > 3 || Math.abs(e.clientY - down[1]) > 3) { return; }
        var idx = u.cursor.idx;
        if (idx == null) { return; }
        var t = u.data[0][idx];
        if (chart.x.indexOf(t) < 0) { return; }  // the forecast's bins have no logs yet
        window.location.href = logsUrl(chart, t, step);
      });
      u.over.title = "Click a point for the logs of that minute";
    };
  }

  /* Zooming one panel zooms them all; a double-click resets them all. */
  function syncZoom(u, key) {
    if (key !== "x" || syncing) { return; }
    syncing = true;
    plots.forEach(function (p) {
      if (p !== u && (p.scales.x.min !== u.scales.x.min || p.scales.x.max !== u.scales.x.max)) {
        p.setScale("x", {min: u.scales.x.min, max: u.scales.x.max});
      }
    });
    syncing = false;
  }

  function yRange(chart) {
    var low = chart.domain ? chart.domain[0] : null;
    return function (u, min, max) {
      if (min == null || max == null) { return [0, 1]; }
      var bottom = low === 0 || min >= 0 ? Math.min(0, min) : min;
      // a flat series (all 0 %) gets a readable axis, not one a billionth tall
      var top = max - bottom > 1e-6 * Math.max(1, Math.abs(max)) ? max + (max - bottom) * 0.08 : bottom + 1;
      if (chart.domain && chart.domain[1] != null) { top = Math.min(top, chart.domain[1]); }
      return [bottom, top];
    };
  }

  /* Ticks at round numbers of the axis' unit (1, 2, 2.5, 5 × 10^k of KiB/s, not of bytes/s, which
     made ticks such as 1.953125 KiB/s), handed back in the chart's own values. */
  function roundSplits(axis) {
    return function (u, axisIdx, min, max) {
      var f = axis.factor, lo = Math.min(min * f, max * f), hi = Math.max(min * f, max * f);
      if (!(hi - lo > 0)) { return [min]; }
      var rough = (hi - lo) / 5, power = Math.pow(10, Math.floor(Math.log10(rough))), stepSize = 10 * power;
      [1, 2, 2.5, 5].some(function (m) { if (m * power >= rough) { stepSize = m * power; return true; } return false; });
      var first = Math.ceil(lo / stepSize - 1e-9), ticks = [];
      for (var i = first; i * stepSize <= hi + stepSize * 1e-9; i++) { ticks.push(i * stepSize / f); }
      return ticks;
    };
  }

  function plotOptions(chart, box, built, step) {
    var axis = axisOf(chart);
    var hooks = {draw: [shadePartial(chart, step)], setScale: [syncZoom]};
    if (chart.logs) { hooks.ready = [clickToLogs(chart, step)]; }
    return {
      width: Math.max(300, box.clientWidth - 24), height: 240, tzDate: utc, series: built.series, bands: built.bands,
      scales: {x: {time: true}, y: {range: yRange(chart)}},
      cursor: {sync: {key: "dendro-page"}},
      axes: [{}, {size: 64, label: axis.unit, labelSize: 18, splits: roundSplits(axis),
                  values: function (u, vals) {
                    var spacing = vals.length > 1 ? Math.abs(vals[1] - vals[0]) * axis.factor : 1;
                    var labels = vals.map(function (v) { return num(v * axis.factor, spacing); });
                    box.dataset.yTicks = labels.join("|");
                    return labels;
                  }}],
      legend: {live: true},
      hooks: hooks
    };
  }

  function caption(box, chart) {
    var notes = [];
    if (chart.baseline) {
      notes.push(chart.baseline.outliers.length + " point(s) of “" + chart.analysed + "” outside the baseline band" +
        (chart.forecast ? "; forecast: " + chart.forecast.method : ""));
    }
    if (chart.forecast_note) { notes.push(chart.forecast_note); }
    if (chart.unjudged_note) { notes.push(chart.unjudged_note); }
    if (chart.partial && chart.partial.length) {
      notes.push("shaded: bin(s) with data over part of their length (the one still filling, or where the data began), drawn but not judged");
    }
    notes.forEach(function (text) {
      var p = document.createElement("p"); p.className = "dim"; p.textContent = text; box.appendChild(p);
    });
    if (chart.logs) {
      var link = document.createElement("a");
      var q = new URLSearchParams(params());
      q.set("service", root.dataset.service);
      q.set("table", chart.logs.table);
      if (chart.logs.level) { q.set("level", chart.logs.level); }
      link.href = root.dataset.logs + "?" + q.toString();
      link.className = "logs-link";
      link.textContent = "Logs of " + chart.logs.table + (chart.logs.level ? " (" + chart.logs.level + ")" : "") +
        " over this range; click a point for its minute";
      var p = document.createElement("p"); p.appendChild(link); box.appendChild(p);
    }
  }

  function disksTable(chart) {
    var table = document.createElement("table");
    table.className = "grid disks";
    var head = table.createTHead().insertRow();
    ["Host", "Filesystem", "Used", "Size", "Growth", "Full in (95% range)"].forEach(function (t) {
      var th = document.createElement("th"); th.textContent = t; head.appendChild(th);
    });
    var body = table.createTBody();
    if (!chart.disks.length) {
      var r = body.insertRow(); var c = r.insertCell(); c.colSpan = 6; c.textContent = "No filesystem samples in this range.";
    }
    chart.disks.forEach(function (d) {
      var r = body.insertRow();
      r.dataset.host = d.host;
      [d.host, d.mountpoint, d.used_percent.toFixed(1) + " %", bytes(d.total_bytes),
       d.bytes_per_hour == null ? "—" : bytes(d.bytes_per_hour) + "/h", fullIn(d)].forEach(function (t) {
        var c = r.insertCell(); c.textContent = t;
      });
      if (d.full_in_seconds != null && d.full_in_seconds < 86400) { r.className = "silent"; }
    });
    return table;
  }

  function bytes(v) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"]; var i = 0; var s = v < 0 ? "-" : ""; v = Math.abs(v);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return s + v.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function span(s) {
    if (s == null) { return "never"; }
    if (s < 3600) { return Math.round(s / 60) + " min"; }
    if (s < 172800) { return (s / 3600).toFixed(1) + " h"; }
    return (s / 86400).toFixed(1) + " days";
  }

  function fullIn(d) {
    if (d.full_in_seconds == null) { return d.samples < 3 ? "too few samples" : "not filling"; }
    return span(d.full_in_seconds) + " (" + span(d.full_in_low_seconds) + " – " + span(d.full_in_high_seconds) + ")";
  }

  function draw(payload) {
    plots.forEach(function (p) { p.destroy(); });
    plots = [];
    window.dendroPlots = {};
    root.textContent = "";
    if (!payload.charts.length) {
      var p = document.createElement("p");
      p.textContent = "This service has no table with data in the store yet.";
      root.appendChild(p);
    }
    var at = pageTimes(payload.charts);
    at.index = {};
    at.forEach(function (t, i) { at.index[t] = i; });
    var step = payload.range.step;
    payload.charts.forEach(function (chart) {
      var box = document.createElement("section");
      box.className = "chart";
      box.id = "chart-" + chart.id;
      var h = document.createElement("h2");
      h.textContent = chart.title;
      box.appendChild(h);
      root.appendChild(box);
      if (chart.kind === "table") { box.appendChild(disksTable(chart)); return; }
      var points = countPoints(chart);
      box.dataset.points = String(points);
      if (!points) {
        var empty = document.createElement("p");
        empty.className = "dim";
        empty.textContent = "No data in this range.";
        box.appendChild(empty);
        return;
      }
      var built = build(chart, at);
      var plot = new uPlot(plotOptions(chart, box, built, step), built.data, box);
      plots.push(plot);
      window.dendroPlots[chart.id] = plot;
      box.dataset.xMin = String(plot.scales.x.min);
      box.dataset.xMax = String(plot.scales.x.max);
      box.dataset.unit = axisOf(chart).unit;
      caption(box, chart);
    });
  }

  function load() {
    status.textContent = "Loading…";
    fetch(root.dataset.api + "?" + params(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.error || ("HTTP " + r.status)); }
          return body;
        });
      })
      .then(function (payload) {
        draw(payload);
        var rng = payload.range;
        status.textContent = "From " + rng.start.replace("T", " ").slice(0, 19) + " to " +
          rng.end.replace("T", " ").slice(0, 19) + " UTC, " + rng.step + " s per point. Updated " +
          new Date().toISOString().slice(11, 19) + " UTC.";
        status.className = "dim";
      })
      .catch(function (err) { status.textContent = "Could not load the charts: " + err.message; status.className = "error"; });
  }

  function schedule() {
    if (timer) { clearInterval(timer); timer = null; }
    var select = document.getElementById("refresh");
    var seconds = select ? parseInt(select.value, 10) : 0;
    if (seconds > 0 && root.dataset.range !== "custom") {
      timer = setInterval(function () { if (!document.hidden) { load(); } }, seconds * 1000);
    }
  }

  var select = document.getElementById("refresh");
  if (select) { select.addEventListener("change", schedule); }
  load();
  schedule();
})();
