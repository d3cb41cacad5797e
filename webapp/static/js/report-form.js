// Report form: map pin, device location, photo count check. Works without tiles:
// the ward boundaries served by the app are drawn so the map is never blank.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var form = document.getElementById("report-form");
  var latInput = document.getElementById("lat");
  var lonInput = document.getElementById("lon");
  var sourceInput = document.getElementById("location_source");
  var status = document.getElementById("pin-status");
  var I18N = JSON.parse(document.getElementById("i18n").textContent);
  var map = L.map(el, { zoomControl: true });
  window.reportMap = map; // lets tests and kiosk pages centre the map
  var bounds = JSON.parse(el.dataset.bounds);
  map.fitBounds(bounds);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  }
  fetch(el.dataset.units).then(function (r) { return r.json(); }).then(function (geojson) {
    L.geoJSON(geojson, {
      style: { color: "#2b6cb0", weight: 1, fillOpacity: 0.04 },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
    }).addTo(map);
  }).catch(function () { /* boundaries are a help, not a requirement */ });

  var marker = null;
  function setPin(lat, lon, source) {
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    sourceInput.value = source;
    if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon]).addTo(map); }
    status.textContent = I18N.pinSet
      .replace("{lat}", lat.toFixed(5)).replace("{lon}", lon.toFixed(5));
    status.dataset.set = "1";
  }
  if (latInput.value && lonInput.value) {
    setPin(parseFloat(latInput.value), parseFloat(lonInput.value), sourceInput.value || "pin");
  }
  map.on("click", function (e) { setPin(e.latlng.lat, e.latlng.lng, "pin"); });

  document.getElementById("locate-me").addEventListener("click", function () {
    if (!navigator.geolocation) { alert(I18N.noGeo); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPin(pos.coords.latitude, pos.coords.longitude, "device");
      map.setView([pos.coords.latitude, pos.coords.longitude], 16);
    }, function () { alert(I18N.noGeo); }, { enableHighAccuracy: true, timeout: 10000 });
  });

  var photos = document.getElementById("photos");
  photos.addEventListener("change", function () {
    if (photos.files.length > 5) { alert(I18N.tooMany); photos.value = ""; }
  });
  form.addEventListener("submit", function (e) {
    var text = document.getElementById("description").value.trim();
    if (text.length < 10) { e.preventDefault(); alert(I18N.needText); return; }
    var btn = document.getElementById("submit");
    btn.disabled = true;
    btn.textContent = I18N.sending;
  });

  // Category questions: only the chosen category's are shown and sent.
  var category = document.getElementById("category");
  function showQuestions() {
    var sets = document.querySelectorAll("fieldset.questions");
    for (var i = 0; i < sets.length; i++) {
      var on = sets[i].dataset.category === category.value;
      sets[i].hidden = !on;
      sets[i].disabled = !on;
    }
  }
  if (category) {
    category.addEventListener("change", showQuestions);
    showQuestions();
  }
})();
