// IOC heatmap: the server counts reports per H3 cell (resolution chosen from the zoom) and
// sends cell centres + counts; the browser never receives every report. At street zoom
// (>= 16, small viewport) it also sends the reports themselves, shown as clustered markers
// that open the report in the back office. Reloads on filter change, on move, and every minute.
(function () {
  "use strict";
  var el = document.getElementById("heatmap");
  var form = document.getElementById("heat-filters");
  var I18N = JSON.parse(document.getElementById("i18n").textContent);
  var MARKER_ZOOM = 16;
  // Average H3 hexagon edge in metres, per resolution (sets the heat radius on screen).
  var EDGE_M = { 6: 3724, 8: 531, 10: 76 };

  var map = L.map(el, { zoomControl: true, preferCanvas: true, maxZoom: 19 });
  window.iocMap = map; // lets tests and wall screens drive the map
  map.fitBounds(JSON.parse(el.dataset.bounds));
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  }

  var heat = L.heatLayer([], { radius: 20, blur: 15, minOpacity: 0.45, max: 1 }).addTo(map);
  var cells = L.layerGroup().addTo(map);
  var markers = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50 });
  map.addLayer(markers);
  var wards = L.geoJSON(null, {
    renderer: L.svg(), // ~100 polygons: SVG keeps their tooltips crisp; cells stay on canvas
    style: { color: "#2b6cb0", weight: 1, fill: false, opacity: 0.6 },
    onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
  }).addTo(map);
  fetch(el.dataset.units).then(function (r) { return r.json(); })
    .then(function (geojson) { wards.addData(geojson); wards.bringToBack(); })
    .catch(function () { /* boundaries help, the heat does not depend on them */ });

  var overlays = {};
  overlays[I18N.heat || "Heat"] = heat;
  overlays[I18N.cells || "Cells"] = cells;
  overlays[I18N.markerLayer || "Reports"] = markers;
  overlays[I18N.wards || "Wards"] = wards;
  L.control.layers(null, overlays, { collapsed: true }).addTo(map);

  function filterParams() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) { params.set(key, value); } });
    return params;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function listUrl(extra) {
    var params = filterParams();
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return el.dataset.listUrl + "?" + params.toString();
  }

  function radiusPx(resolution) {
    var lat = map.getCenter().lat * Math.PI / 180;
    var metresPerPx = 40075016.686 * Math.cos(lat) / (256 * Math.pow(2, map.getZoom()));
    return Math.max(6, Math.min(60, 1.6 * EDGE_M[resolution] / metresPerPx));
  }

  function drawCells(data) {
    var max = Math.max(data.max, 1);
    var scale = Math.log(1 + max);
    heat.setOptions({ radius: radiusPx(data.resolution), blur: radiusPx(data.resolution) * 0.75 });
    heat.setLatLngs(data.cells.map(function (c) {
      return [c[1], c[2], 0.25 + 0.75 * Math.log(1 + c[3]) / scale];
    }));
    cells.clearLayers();
    data.cells.forEach(function (c) {
      var dot = L.circleMarker([c[1], c[2]], {
        radius: 5, stroke: false, fillColor: "#1a202c", fillOpacity: 0.01
      });
      dot.bindTooltip(c[3] + " " + I18N.reports);
      dot.bindPopup(function () {
        return "<strong>" + c[3] + " " + escapeHtml(I18N.reports) + "</strong><br>" +
          '<a href="' + escapeHtml(listUrl({ cell: c[0] })) + '">' + escapeHtml(I18N.openList) + "</a>";
      });
      cells.addLayer(dot);
    });
  }

  function drawMarkers(data) {
    markers.clearLayers();
    if (!data.markers) { return; }
    var statuses = I18N.statuses || {};
    markers.addLayers(data.markers.map(function (m) {
      var url = el.dataset.reportUrl.replace("CODE", encodeURIComponent(m.code));
      var status = statuses[m.status] ? statuses[m.status][0] : m.status;
      return L.marker([m.lat, m.lon], { title: m.code }).bindPopup(
        '<a href="' + escapeHtml(url) + '"><strong>' + escapeHtml(m.code) + "</strong></a><br>" +
        escapeHtml(status)
      );
    }));
  }

  function legend(data) {
    document.getElementById("heat-total").textContent = data.total.toLocaleString("vi-VN");
    document.getElementById("heat-total").dataset.total = data.total;
    document.getElementById("heat-cells").textContent = data.cell_count.toLocaleString("vi-VN");
    document.getElementById("heat-max").textContent = data.max.toLocaleString("vi-VN");
    var res = (I18N.resolution || {})[data.resolution] || ("r" + data.resolution);
    if (data.markers) {
      res += " + " + I18N.markers + " (" + data.markers.length + ")";
      if (data.markers_truncated) { res += " " + I18N.truncated; }
    }
    document.getElementById("heat-res").textContent = res;
    document.getElementById("heat-markers-note").hidden = map.getZoom() >= MARKER_ZOOM;
    var updated = new Date(data.updated_at);
    document.getElementById("heat-updated").textContent = updated.toLocaleTimeString("vi-VN");
    document.getElementById("heat-updated").setAttribute("datetime", data.updated_at);
    document.getElementById("heat-list").href = data.list_url;
    document.getElementById("heat-export").href =
      document.getElementById("heat-export").href.split("?")[0] + "?" + filterParams().toString();
  }

  var inflight = null;
  function load() {
    if (inflight) { inflight.abort(); }
    inflight = new AbortController();
    var params = filterParams();
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
    params.set("zoom", map.getZoom());
    params.set("bbox", map.getBounds().toBBoxString());
    el.setAttribute("aria-busy", "true");
    return fetch(el.dataset.url + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: inflight.signal
    }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (data) {
      drawCells(data);
      drawMarkers(data);
      legend(data);
      document.getElementById("heat-error").hidden = true;
      el.dataset.loads = String(Number(el.dataset.loads || 0) + 1);
      el.removeAttribute("aria-busy");
    }).catch(function (err) {
      if (err.name === "AbortError") { return; }
      document.getElementById("heat-error").hidden = false;
      el.removeAttribute("aria-busy");
    });
  }

  var timer = null;
  function soon() { clearTimeout(timer); timer = setTimeout(load, 250); }
  map.on("moveend", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  document.getElementById("heat-reset").addEventListener("click", function (e) {
    e.preventDefault(); // a plain reset would go back to the filters the page opened with
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.type === "checkbox") { input.checked = false; } else if (input.name) { input.value = ""; }
    });
    load();
  });
  setInterval(function () {
    el.dataset.refreshes = String(Number(el.dataset.refreshes) + 1);
    load();
  }, Number(el.dataset.refresh || 60) * 1000);
  load();
})();
