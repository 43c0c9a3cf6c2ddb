// The staff lists (cases/list, queue, extensions): keyboard and thumb helpers. Every page
// works without this file; it only saves keystrokes and taps.
// - "/" puts the cursor in the search box (as on many sites), Escape leaves it.
// - On the queue: a box ticks every row of the page, shift+click ticks a range, the
//   action buttons show how many rows are ticked and stay off while none is.
// - A bulk or decision form is sent once: a double tap does not submit it twice (the
//   server would refuse the second anyway, but the dispatcher would read a list of
//   refusals).
(function () {
  "use strict";

  var search = document.querySelector("[data-linli-search]");
  document.addEventListener("keydown", function (event) {
    if (!search || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "Escape" && target === search) {
      search.blur();
    }
  });

  function once(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      // Disabled after the browser has read the pressed button's name and value.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
    // Back to this page from the next one (the browser's page cache): ready again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      if (form === bulk) refresh();
    });
  }
  var bulk = document.querySelector("form[data-linli-bulk]");
  document.querySelectorAll("form[data-linli-once]").forEach(once);
  if (!bulk) return;
  once(bulk);
  var boxes = Array.prototype.slice.call(bulk.querySelectorAll("input[type=checkbox][name=ids]"));
  var all = bulk.querySelector("[data-linli-tick-all]");
  var counters = bulk.querySelectorAll("[data-linli-ticked]");
  var buttons = bulk.querySelectorAll("button[name=action]");
  var last = null;

  function refresh() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    counters.forEach(function (c) { c.textContent = n ? String(n) : ""; });
    buttons.forEach(function (b) { b.disabled = n === 0; });
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  }

  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
  }
  boxes.forEach(function (box) {
    box.addEventListener("click", function (event) {
      if (event.shiftKey && last && last !== box) {
        var from = boxes.indexOf(last);
        var to = boxes.indexOf(box);
        var lo = Math.min(from, to);
        var hi = Math.max(from, to);
        for (var i = lo; i <= hi; i++) boxes[i].checked = box.checked;
      }
      last = box;
      refresh();
    });
  });
  refresh();
})();
