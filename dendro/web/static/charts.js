/* Charts page: fetch the service's chart data from the JSON API and draw it with uPlot.
   Every value drawn comes from the API; nothing is made up here. */
(function () {
  "use strict";
  var root = document.getElementById("charts");
  var status = document.getElementById("status");
  if (!root) { return; }
  var COLORS = ["#2f6fdf", "#2a9d5c", "#e0a100", "#d1495b", "#7b5ea7", "#00a3a3", "#8c6d31", "#555555"];
  var CLASS_COLORS = {"1xx": "#7b5ea7", "2xx": "#2a9d5c", "3xx": "#2f6fdf", "4xx": "#e0a100", "5xx": "#d1495b", "total": "#333333"};
  var plots = [];
  var timer = null;

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

  function pad(values, n) {
    var out = values.slice();
    while (out.length < n) { out.push(null); }
    return out;
  }

  function fmt(v, unit) {
    if (v == null) { return "—"; }
    if (unit === "%") { return v.toFixed(2) + " %"; }
    if (unit === "s") { return v < 1 ? (v * 1000).toFixed(1) + " ms" : v.toFixed(3) + " s"; }
    return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
  }

  function countPoints(chart) {
    var n = 0;
    chart.series.forEach(function (s) { s.values.forEach(function (v) { if (v != null) { n++; } }); });
    return n;
  }

  function build(chart) {
    var xs = chart.x.slice();
    var fc = chart.forecast;
    var extra = fc ? fc.x.slice(1) : [];
    var x = xs.concat(extra);
    var n = x.length;
    var data = [x];
    var series = [{}];
    chart.series.forEach(function (s, i) {
      data.push(pad(s.values, n));
      series.push({label: s.label, stroke: CLASS_COLORS[s.label] || COLORS[i % COLORS.length],
                   width: s.label === chart.analysed ? 2 : 1.5, spanGaps: false, points: {show: false},
                   value: function (u, v) { return fmt(v, chart.unit); }});
    });
    var bands = [];
    if (chart.baseline) {
      var upperIdx = data.length;
      data.push(pad(chart.baseline.upper, n));
      series.push({label: "baseline high", stroke: "rgba(47,111,223,0.25)", width: 1, points: {show: false}});
      data.push(pad(chart.baseline.lower, n));
      series.push({label: "baseline low", stroke: "rgba(47,111,223,0.25)", width: 1, points: {show: false}});
      bands.push({series: [upperIdx, upperIdx + 1], fill: "rgba(47,111,223,0.10)"});
      var analysed = chart.series.filter(function (s) { return s.label === chart.analysed; })[0];
      var marks = new Array(n).fill(null);
      chart.baseline.outliers.forEach(function (i) { marks[i] = analysed.values[i]; });
      data.push(marks);
      series.push({label: "outside baseline", stroke: "#d1495b", fill: "#d1495b", width: 0,
                   paths: function () { return null; }, points: {show: true, size: 8, space: 0, fill: "#d1495b"},
                   value: function (u, v) { return fmt(v, chart.unit); }});
    }
    if (fc) {
      var lead = new Array(xs.length - 1).fill(null);
      var fIdx = data.length;
      data.push(pad(lead.concat(fc.mean), n));
      series.push({label: "forecast", stroke: "#7b5ea7", width: 2, dash: [6, 4], points: {show: false},
                   value: function (u, v) { return fmt(v, chart.unit); }});
      data.push(pad(lead.concat(fc.upper), n));
      series.push({label: Math.round(fc.level * 100) + "% high", stroke: "rgba(123,94,167,0.3)", width: 1,
                   points: {show: false}});
      data.push(pad(lead.concat(fc.lower), n));
      series.push({label: Math.round(fc.level * 100) + "% low", stroke: "rgba(123,94,167,0.3)", width: 1,
                   points: {show: false}});
      bands.push({series: [fIdx + 1, fIdx + 2], fill: "rgba(123,94,167,0.12)"});
    }
    return {data: data, series: series, bands: bands};
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
    root.textContent = "";
    if (!payload.charts.length) {
      var p = document.createElement("p");
      p.textContent = "This service has no table with data in the store yet.";
      root.appendChild(p);
    }
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
      var built = build(chart);
      var opts = {
        width: Math.max(300, box.clientWidth - 24), height: 240, tzDate: utc, series: built.series, bands: built.bands,
        scales: {x: {time: true}},
        axes: [{}, {size: 72, values: function (u, vals) { return vals.map(function (v) { return fmt(v, chart.unit); }); }}],
        legend: {live: true}
      };
      plots.push(new uPlot(opts, built.data, box));
      if (chart.forecast_note) {
        var note = document.createElement("p"); note.className = "dim"; note.textContent = chart.forecast_note;
        box.appendChild(note);
      }
      if (chart.baseline) {
        var out = document.createElement("p");
        out.className = "dim outliers";
        out.textContent = chart.baseline.outliers.length + " point(s) of “" + chart.analysed + "” outside the baseline band" +
          (chart.forecast ? "; forecast: " + chart.forecast.method : "");
        box.appendChild(out);
      }
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
