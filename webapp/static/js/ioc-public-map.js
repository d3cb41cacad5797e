// Public map: counts per area (H3 cells, never finer than ~0.7 km²) as graded circles.
// No report, no exact position and nothing personal reaches this page.
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  if (!el) { return; }
  var I18N = JSON.parse(document.getElementById("i18n").textContent);
  var EDGE_M = { 6: 3724, 8: 531 };
  var map = L.map(el, { preferCanvas: true, maxZoom: 18 });
  window.publicMap = map;
  map.fitBounds(JSON.parse(el.dataset.bounds));
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution }).addTo(map);
  }
  fetch(el.dataset.units).then(function (r) { return r.json(); }).then(function (geojson) {
    L.geoJSON(geojson, {
      style: { color: "#2b6cb0", weight: 1, fillOpacity: 0.03 },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
    }).addTo(map).bringToBack();
  }).catch(function () { /* the counts still show without boundaries */ });

  var layer = L.layerGroup().addTo(map);
  var category = document.getElementById("pm-category");
  var state = document.getElementById("pm-state");

  function colour(share) {
    // light yellow → dark red as the cell fills up
    var stops = ["#fef08a", "#fbbf24", "#f97316", "#dc2626", "#7f1d1d"];
    return stops[Math.min(stops.length - 1, Math.floor(share * stops.length))];
  }

  var inflight = null;
  function load() {
    if (inflight) { inflight.abort(); }
    inflight = new AbortController();
    var params = new URLSearchParams();
    params.set("zoom", map.getZoom());
    params.set("bbox", map.getBounds().toBBoxString());
    if (category.value) { params.set("linh_vuc", category.value); }
    if (state.value) { params.set("trang_thai", state.value); }
    var sep = el.dataset.url.indexOf("?") >= 0 ? "&" : "?";
    fetch(el.dataset.url + sep + params.toString(), { signal: inflight.signal })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        layer.clearLayers();
        var max = Math.max(data.max, 1);
        data.cells.forEach(function (c) {
          var share = Math.log(1 + c[3]) / Math.log(1 + max);
          L.circle([c[1], c[2]], {
            radius: EDGE_M[data.resolution] * 0.9, stroke: false,
            fillColor: colour(share), fillOpacity: 0.75
          }).bindTooltip(c[3] + " " + I18N.reports).addTo(layer);
        });
        var total = document.getElementById("public-map-total");
        total.textContent = I18N.total.replace("{n}", data.total.toLocaleString("vi-VN"));
        total.dataset.total = data.total;
      })
      .catch(function () { /* keep what is shown */ });
  }
  map.on("moveend", load);
  category.addEventListener("change", load);
  state.addEventListener("change", load);
  load();
})();
