// Where a report is, on the tracking page and the back office's report page: the ward
// boundaries, and an exact pin when the viewer may see it (data-exact), otherwise a circle
// around the coarse public point.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el) { return; }
  var p = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el).setView(p, el.dataset.exact ? 15 : 14);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  }
  fetch(el.dataset.units).then(function (r) { return r.json(); }).then(function (g) {
    L.geoJSON(g, { style: { color: "#2b6cb0", weight: 1, fillOpacity: 0.04 } }).addTo(map);
  }).catch(function () { /* boundaries are a help, not a requirement */ });
  if (el.dataset.exact) { L.marker(p).addTo(map); }
  else { L.circle(p, { radius: 460, color: "#2b6cb0", weight: 1 }).addTo(map); }
})();
