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
