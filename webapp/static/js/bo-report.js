/* The report page: its map and the reply templates. */
(function () {
  var el = document.getElementById("map");
  if (!el) { return; }
  var p = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el).setView(p, 15);
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
  fetch(el.dataset.units).then(function (r) { return r.json(); }).then(function (g) {
    L.geoJSON(g, { style: { color: "#2b6cb0", weight: 1, fillOpacity: 0.04 } }).addTo(map);
  }).catch(function () {});
  L.marker(p).addTo(map);
})();
(function () {
  var pick = document.getElementById("reply-template");
  if (!pick) { return; }
  pick.addEventListener("change", function () {
    document.getElementById(pick.dataset.target).value = pick.value;
  });
})();
