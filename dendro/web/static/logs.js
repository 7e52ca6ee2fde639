/* Logs explorer: a custom time switches the range to custom; another service clears the table. */
(function () {
  "use strict";
  var form = document.getElementById("log-search");
  if (!form) { return; }
  var range = form.elements.range;
  var service = form.elements.service;
  var table = form.elements.table;
  ["start", "end"].forEach(function (name) {
    form.elements[name].addEventListener("change", function () { range.value = "custom"; });
  });
  service.addEventListener("change", function () { table.value = ""; });
  table.addEventListener("change", function () {
    var chosen = table.options[table.selectedIndex];
    if (chosen && chosen.parentNode.label) { service.value = chosen.parentNode.label; }
  });
})();

/* Logs explorer: the histogram of the matches (errors in red over all of them), drawn with uPlot;
   dragging across it searches that stretch of time. */
(function () {
  "use strict";
  var holder = document.getElementById("volume-data");
  var box = document.getElementById("volume");
  var form = document.getElementById("log-search");
  if (!holder || !box || !form || typeof uPlot === "undefined") { return; }
  var volume = JSON.parse(holder.textContent);
  var bars = uPlot.paths.bars({size: [0.8, 40]});
  function iso(t) { return new Date(t * 1e3).toISOString().slice(0, 19); }
  function nonzero(n) { return n ? n : null; }  // an empty bin draws no bar, not a stub
  var plot = new uPlot({
    width: Math.max(320, box.clientWidth - 24), height: 110,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
    legend: {show: false}, cursor: {drag: {x: true, y: false, setScale: false}},
    scales: {x: {time: true, range: function () { return [volume.x[0], volume.x[volume.x.length - 1] + volume.step]; }}},
    axes: [{}, {size: 48, values: function (u, vals) { return vals.map(function (v) { return v % 1 ? "" : String(v); }); }}],
    series: [{}, {label: "matches", fill: "rgba(102,112,133,0.45)", stroke: "rgba(102,112,133,0.8)", paths: bars, points: {show: false}},
             {label: "errors", fill: "rgba(194,51,74,0.75)", stroke: "#c2334a", paths: bars, points: {show: false}}],
    hooks: {setSelect: [function (u) {
      if (u.select.width < 3) { return; }
      var start = u.posToVal(u.select.left, "x");
      var end = u.posToVal(u.select.left + u.select.width, "x");
      form.elements.range.value = "custom";
      form.elements.start.value = iso(Math.floor(start));
      form.elements.end.value = iso(Math.ceil(end));
      form.submit();
    }]}
  }, [volume.x, volume.n.map(nonzero), volume.errors.map(nonzero)], box);
  box.dataset.bins = String(volume.x.length);
  window.dendroVolume = plot;
})();
