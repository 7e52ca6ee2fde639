/* Query page: CodeMirror SQL editor over the form's textarea; examples fill the editor. */
(function () {
  "use strict";
  var area = document.getElementById("sql");
  var form = document.getElementById("query-form");
  if (!area || !form || typeof CodeMirror === "undefined") { return; }
  var editor = CodeMirror.fromTextArea(area, {
    mode: "text/x-sql", lineNumbers: true, indentWithTabs: false, tabSize: 2, lineWrapping: true,
    extraKeys: {"Ctrl-Enter": function () { editor.save(); form.submit(); },
                "Cmd-Enter": function () { editor.save(); form.submit(); }}
  });
  window.dendroEditor = editor;
  form.addEventListener("submit", function () { editor.save(); });
  Array.prototype.forEach.call(document.querySelectorAll("a.example"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      editor.setValue(link.dataset.sql);
      editor.focus();
    });
  });
})();
/* Query page: a result with a time column and numeric columns is drawn under its table. */
(function () {
  "use strict";
  var holder = document.getElementById("result-chart-data");
  var box = document.getElementById("result-chart");
  if (!holder || !box || typeof uPlot === "undefined") { return; }
  var chart = JSON.parse(holder.textContent);
  var COLORS = ["#2f6fdf", "#2a9d5c", "#e0a100", "#d1495b", "#7b5ea7", "#00a3a3", "#8c6d31", "#555555"];
  var data = [chart.x];
  var series = [{}];
  var columns = [];
  chart.series.forEach(function (s) { if (columns.indexOf(s.column) < 0) { columns.push(s.column); } });
  var twoAxes = columns.length === 2;  // the second column gets its own axis on the right
  chart.series.forEach(function (s, i) {
    var values = s.values;
    data.push(values);
    series.push({label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
                 scale: twoAxes && s.column === columns[1] ? "right" : "y",
                 points: {show: true, size: 4, filter: function () {
                   var idx = [];
                   values.forEach(function (v, j) { if (v != null && values[j - 1] == null && values[j + 1] == null) { idx.push(j); } });
                   return idx;
                 }}});
  });
  var plot = new uPlot({
    width: Math.max(320, box.clientWidth - 24), height: 280, series: series,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
    scales: {x: {time: true}},
    axes: [{}, {size: 64, scale: "y", label: twoAxes ? columns[0] : ""}].concat(
      twoAxes ? [{size: 64, scale: "right", side: 1, label: columns[1], grid: {show: false}}] : []),
    legend: {live: true}
  }, data, box);
  box.dataset.series = String(chart.series.length);
  box.dataset.axes = String(twoAxes ? 2 : 1);
  box.dataset.points = String(chart.x.length);
  window.dendroResultPlot = plot;
})();
