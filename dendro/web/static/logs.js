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
