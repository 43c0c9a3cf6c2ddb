// The grid map: grids from GeoJSON, coloured by community, the viewer's own area in bold.
// Works with no tile server: without data-tile-url the grids sit on a plain background.
(function () {
  "use strict";
  var el = document.getElementById("grid-map");
  if (!el || typeof L === "undefined") return;
  var d = el.dataset;
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
    "#7b4173", "#3182bd", "#e6550d"];
  var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25 });
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { attribution: d.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  function text(s) {
    var span = document.createElement("span");
    span.textContent = s;
    return span.innerHTML;
  }
  function colour(i) { return PALETTE[i % PALETTE.length]; }
  function style(feature) {
    var p = feature.properties;
    return {
      color: p.highlight ? "#111" : colour(p.colour),
      weight: p.highlight ? 3 : 1,
      fillColor: colour(p.colour),
      fillOpacity: p.highlight ? 0.55 : 0.3,
    };
  }
  function popup(feature) {
    var p = feature.properties;
    var html = "<strong>" + text(p.name) + "</strong><br>" +
      text(d.labelCode) + ": " + text(p.code) + "<br>" +
      text(d.labelCommunity) + ": " + text(p.community) + " (" + text(p.community_code) + ")<br>" +
      text(d.labelWorkers) + ": " + text(p.workers.length ? p.workers.join("、") : d.labelNone) + "<br>" +
      text(d.labelArea) + ": " + text(p.area_m2.toLocaleString()) + " m²";
    if (d.detailUrl) {
      html += '<br><a href="' + d.detailUrl.replace("CODE", encodeURIComponent(p.code)) + '">' + text(d.labelOpen) + "</a>";
    }
    return html;
  }
  function failed() {
    el.textContent = d.labelError;
  }
  fetch(d.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    })
    .then(function (data) {
      if (!data.features.length) {
        el.textContent = d.labelEmpty;
        return;
      }
      var layer = L.geoJSON(data, {
        style: style,
        onEachFeature: function (feature, l) { l.bindPopup(popup(feature)); },
      }).addTo(map);
      var own = data.features.filter(function (f) { return f.properties.highlight; });
      map.fitBounds(own.length ? L.geoJSON({ type: "FeatureCollection", features: own }).getBounds() : layer.getBounds());
      var seen = {};
      var legend = L.control({ position: "bottomright" });
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "linli-legend");
        var rows = ["<strong>" + text(d.labelLegend) + "</strong>"];
        data.features.forEach(function (f) {
          var p = f.properties;
          if (seen[p.community_code]) return;
          seen[p.community_code] = true;
          rows.push('<span class="swatch" style="background:' + colour(p.colour) + '"></span>' + text(p.community));
        });
        div.innerHTML = rows.join("<br>");
        return div;
      };
      legend.addTo(map);
    })
    .catch(failed);
})();
