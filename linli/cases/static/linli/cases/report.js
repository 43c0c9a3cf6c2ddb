// The report page (随手拍): tap the map or use the phone's position, search the matters,
// load the chosen matter's questions, offer possible duplicates, and keep a double tap on
// "send" from sending twice. Without this script the form still works: the matter comes
// from the plain list and the place from the first photo's GPS position.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  var matter = document.getElementById("id_matter");
  var description = document.getElementById("id_description");
  var status = document.getElementById("place-status");
  var submit = document.getElementById("report-submit");

  // --- the place ---------------------------------------------------------------------------
  var mapEl = document.getElementById("report-map");
  var map = null;
  var marker = null;

  function validPoint(x, y) {
    return isFinite(x) && isFinite(y) && x >= -180 && x <= 180 && y >= -90 && y <= 90;
  }

  function showPoint(x, y, zoom) {
    if (status) status.textContent = status.dataset.labelChosen + " " + x.toFixed(6) + ", " + y.toFixed(6);
    if (!map) return;
    var latlng = L.latLng(y, x);
    if (marker) marker.setLatLng(latlng);
    else marker = L.marker(latlng, { keyboard: false }).addTo(map);
    if (zoom) map.setView(latlng, Math.max(map.getZoom() || 0, 17));
  }

  function setPoint(x, y, zoom) {
    // WGS-84 to six decimals (about 0.1 m), as navigator.geolocation gives it.
    lon.value = x.toFixed(6);
    lat.value = y.toFixed(6);
    showPoint(x, y, zoom);
    checkDuplicates();
  }

  if (mapEl && typeof L !== "undefined") {
    var d = mapEl.dataset;
    map = L.map(mapEl, { preferCanvas: true, zoomSnap: 0.25 });
    if (d.tileUrl) {
      L.tileLayer(d.tileUrl, { attribution: d.tileAttribution, maxZoom: 19 }).addTo(map);
    }
    map.setView([35, 105], 4);
    var start = [parseFloat(lon.value), parseFloat(lat.value)];
    var hasStart = validPoint(start[0], start[1]);
    if (hasStart) {
      showPoint(start[0], start[1], false);
      map.setView([start[1], start[0]], 17);
    }
    map.on("click", function (e) {
      setPoint(e.latlng.lng, e.latlng.lat, false);
    });
    fetch(d.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (data) {
        if (!data.features.length) return;
        var layer = L.geoJSON(data, {
          // Clicks go through the grids to the map, so that a tap anywhere sets the point.
          interactive: false,
          style: { color: "#0d6efd", weight: 1, fillOpacity: 0.08 },
        }).addTo(map);
        if (!hasStart && !marker) map.fitBounds(layer.getBounds());
      })
      .catch(function () {
        var note = document.createElement("div");
        note.className = "small text-warning";
        note.textContent = d.labelError;
        mapEl.parentNode.after(note);
      });
  }

  var positionButton = document.getElementById("use-position");
  if (positionButton && "geolocation" in navigator) {
    positionButton.hidden = false;
    var idle = positionButton.textContent;
    positionButton.addEventListener("click", function () {
      positionButton.disabled = true;
      positionButton.textContent = positionButton.dataset.labelBusy;
      navigator.geolocation.getCurrentPosition(
        function (p) {
          positionButton.disabled = false;
          positionButton.textContent = idle;
          setPoint(p.coords.longitude, p.coords.latitude, true);
        },
        function () {
          positionButton.disabled = false;
          positionButton.textContent = idle;
          if (status) status.textContent = positionButton.dataset.labelDenied;
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    });
  }

  // --- photos: small previews, so that the reporter sees what will be sent ------------------
  var photos = document.getElementById("id_photos");
  var previews = document.getElementById("photo-previews");
  if (photos && previews && window.URL && URL.createObjectURL) {
    photos.addEventListener("change", function () {
      previews.textContent = "";
      Array.prototype.forEach.call(photos.files, function (file) {
        if (!/^image\//.test(file.type)) return;
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        img.className = "rounded border";
        img.width = 72;
        img.height = 72;
        img.style.objectFit = "cover";
        img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
        previews.appendChild(img);
      });
    });
  }

  // --- the matter: search, then its questions ----------------------------------------------
  var search = document.getElementById("matter-q");
  var results = document.getElementById("matter-results");
  var questions = document.getElementById("matter-questions");
  if (search) {
    search.hidden = false;
    // Enter in the search box searches; it must not send the half-filled report.
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") e.preventDefault();
    });
  }

  function loadQuestions() {
    if (!questions || typeof htmx === "undefined") return;
    if (!matter.value) {
      questions.textContent = "";
      return;
    }
    var url = form.dataset.questionsUrl.replace("CODE", encodeURIComponent(matter.value));
    htmx.ajax("GET", url, { target: questions, swap: "innerHTML" });
  }

  if (results) {
    results.addEventListener("click", function (e) {
      var button = e.target.closest("[data-matter-code]");
      if (!button) return;
      matter.value = button.dataset.matterCode;
      matter.dispatchEvent(new Event("change", { bubbles: true }));
      search.value = button.querySelector(".fw-semibold").textContent;
      results.textContent = "";
    });
  }
  if (matter) {
    matter.addEventListener("change", function () {
      loadQuestions();
      checkDuplicates();
    });
  }

  // --- duplicates ----------------------------------------------------------------------------
  var duplicates = document.getElementById("duplicates");
  var timer = null;

  function checkDuplicates() {
    if (!duplicates || typeof htmx === "undefined") return;
    if (!(matter.value && lon.value && lat.value && description.value.trim())) {
      duplicates.textContent = "";
      return;
    }
    // A POST (with the page's CSRF header): the description stays out of URLs and logs.
    htmx.ajax("POST", form.dataset.duplicatesUrl, {
      target: duplicates,
      swap: "innerHTML",
      values: {
        matter: matter.value,
        lon: lon.value,
        lat: lat.value,
        description: description.value.trim().slice(0, 500),
      },
    });
  }

  if (description) {
    description.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(checkDuplicates, 800);
    });
  }
  // A form shown again with its errors: offer the duplicates straight away.
  checkDuplicates();

  // --- one tap sends once --------------------------------------------------------------------
  // The server files a form's token once whatever happens; this only spares a second upload
  // of the photos on a slow line.
  var submitLabel = submit ? submit.textContent : "";
  form.addEventListener("submit", function (e) {
    if (form.dataset.sending) {
      e.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    if (submit) {
      submit.disabled = true;
      submit.textContent = submit.dataset.labelBusy;
    }
  });
  // Coming back with the browser's back button shows the page as it was left: sendable.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    delete form.dataset.sending;
    if (submit) {
      submit.disabled = false;
      submit.textContent = submitLabel;
    }
  });
})();
