// The report page's matter suggestions (cases:suggest_report, loaded by htmx as the
// description is typed): tapping one chooses that matter in the form's list, which loads
// its questions and looks for duplicates (report.js listens to the list's changes).
(function () {
  "use strict";
  var box = document.getElementById("matter-suggestions");
  var matter = document.getElementById("id_matter");
  if (!box || !matter) return;

  function mark() {
    Array.prototype.forEach.call(box.querySelectorAll("[data-suggest-code]"), function (b) {
      var chosen = b.dataset.suggestCode === matter.value;
      b.classList.toggle("active", chosen);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
  }

  box.addEventListener("click", function (e) {
    var button = e.target.closest("[data-suggest-code]");
    if (!button) return;
    var code = button.dataset.suggestCode;
    var known = Array.prototype.some.call(matter.options, function (o) {
      return o.value === code;
    });
    if (!known) return;
    matter.value = code;
    matter.dispatchEvent(new Event("change", { bubbles: true }));
  });
  matter.addEventListener("change", mark);
  // New suggestions arrive: show which of them is the matter already chosen.
  box.addEventListener("htmx:afterSwap", mark);
})();
