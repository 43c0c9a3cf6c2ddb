// The case page: a small map of the reported place (with its grid outlined), and htmx
// showing a refused action's errors in the panel. Works with no tile server: without
// data-tile-url the point and the grid sit on a plain background.
(function () {
  "use strict";

  function drawMap() {
    var el = document.getElementById("case-map");
    if (!el || typeof L === "undefined") return;
    var d = el.dataset;
    var lat = parseFloat(d.lat), lon = parseFloat(d.lon);
    if (!isFinite(lat) || !isFinite(lon)) return;
    // The view first: Leaflet cannot place a layer on a map without a centre.
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25 }).setView([lat, lon], 17);
    if (d.tileUrl) {
      L.tileLayer(d.tileUrl, { attribution: d.tileAttribution, maxZoom: 19 }).addTo(map);
    }
    var gridEl = document.getElementById("case-grid");
    var grid = null;
    if (gridEl) {
      try { grid = JSON.parse(gridEl.textContent); } catch (e) { grid = null; }
    }
    if (grid && grid.type) {
      L.geoJSON(grid, { style: { color: "#0d6efd", weight: 2, fillOpacity: 0.08 } }).addTo(map);
    }
    L.circleMarker([lat, lon], { radius: 9, color: "#d63384", weight: 3, fillOpacity: 0.6 })
      .addTo(map)
      .bindTooltip(d.label);
  }

  // A refused action answers 400 with the panel and its errors: swap it in (htmx leaves
  // 4xx answers out by default).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && target.id === "case-panel") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  drawMap();
})();
