// The report form on a cheap phone: map pin, device location, light photos (PhotoPrep), the
// draft kept on the phone (DraftStore) and sent once when the network is there, errors next
// to their fields, reports already filed nearby. Works without tiles: the ward boundaries
// served by the app are drawn so the map is never blank. Without this script the form still
// posts as a plain form (the server keeps the typed text and answers with the page).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var I18N = JSON.parse($("i18n").textContent);
  var form = $("report-form");
  var el = $("map");
  var latInput = $("lat"), lonInput = $("lon"), sourceInput = $("location_source");
  var pinStatus = $("pin-status"), net = $("net-status"), formError = $("form-error");
  var button = $("submit"), photoInput = $("photos");
  var MAX_PHOTOS = 5;
  var noop = function () {};
  var draft = { key: null, fields: {}, photos: [], queued: false };
  var sending = false;
  var preparing = Promise.resolve(); // photos being made light: sent once they are ready

  // -- the map ---------------------------------------------------------------------------
  var map = L.map(el, { zoomControl: true, keyboard: true });
  window.reportMap = map; // lets tests and kiosk pages centre the map
  map.fitBounds(JSON.parse(el.dataset.bounds));
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  }
  // The ward boundaries (the page's heaviest download) come when the map is in sight: a
  // resident who types the address never pays for them. They are a help, not a requirement.
  function drawWards() {
    fetch(el.dataset.units).then(function (r) { return r.json(); }).then(function (geojson) {
      L.geoJSON(geojson, {
        style: { color: "#2b6cb0", weight: 1, fillOpacity: 0.04 },
        onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
      }).addTo(map);
    }).catch(noop);
  }
  if (window.IntersectionObserver) {
    var sight = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { sight.disconnect(); drawWards(); }
    }, { threshold: 0.5 });
    sight.observe(el);
  } else {
    drawWards();
  }

  var marker = null;
  function setPin(lat, lon, source) {
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    sourceInput.value = source;
    if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon]).addTo(map); }
    var text = source === "photo" ? I18N.pinPhoto : I18N.pinSet;
    pinStatus.textContent = text.replace("{lat}", lat.toFixed(5)).replace("{lon}", lon.toFixed(5));
    pinStatus.dataset.set = "1";
    clearError("address");
    showNearby();
  }
  map.on("click", function (e) { setPin(e.latlng.lat, e.latlng.lng, "pin"); saveSoon(); });
  $("locate-me").addEventListener("click", function () {
    if (!navigator.geolocation) { showError("address", I18N.noGeo); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPin(pos.coords.latitude, pos.coords.longitude, "device");
      map.setView([pos.coords.latitude, pos.coords.longitude], 16);
      saveSoon();
    }, function () { showError("address", I18N.noGeo); }, { enableHighAccuracy: true, timeout: 10000 });
  });

  // -- errors next to their fields -------------------------------------------------------
  var FIELDS = { description: "description", photos: "photos", address: "address", lat: "address",
    lon: "address", consent: "consent" };
  function clearError(name) {
    var box = $(name + "-error"), input = $(name);
    if (box) { box.textContent = ""; }
    if (input) { input.removeAttribute("aria-invalid"); }
  }
  function showError(field, message) {
    var name = FIELDS[field];
    formError.hidden = true;
    if (!name) { formError.textContent = message; formError.hidden = false; formError.focus(); return; }
    $(name + "-error").textContent = message;
    $(name).setAttribute("aria-invalid", "true");
    $(name).focus();
  }

  // -- the draft on the phone ------------------------------------------------------------
  function fields() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      var name = input.name;
      if (!name || input.type === "file" || name === "csrf_token" || name === "client_key") { return; }
      if (input.type === "checkbox") { out[name] = input.checked ? input.value : ""; }
      else if (input.type === "radio") { if (input.checked) { out[name] = input.value; } }
      else { out[name] = input.value; }
    });
    return out;
  }
  function restore(values) {
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || !(input.name in values) || input.type === "file") { return; }
      if (input.type === "checkbox") { input.checked = !!values[input.name]; }
      else if (input.type === "radio") { input.checked = values[input.name] === input.value; }
      else if (input.name !== "csrf_token" && input.name !== "client_key") { input.value = values[input.name]; }
    });
  }
  function save() {
    draft.fields = fields();
    draft.savedAt = Date.now();
    return window.DraftStore ? DraftStore.save(draft).catch(noop) : Promise.resolve();
  }
  var timer = null;
  function saveSoon() { clearTimeout(timer); timer = setTimeout(save, 300); }
  form.addEventListener("input", saveSoon);
  form.addEventListener("change", function (e) { if (e.target !== photoInput) { saveSoon(); } });

  // -- photos, made light ----------------------------------------------------------------
  function showPhotos() {
    var list = $("photo-list");
    list.textContent = "";
    var bytes = 0;
    draft.photos.forEach(function (photo, i) {
      bytes += photo.blob.size;
      var item = document.createElement("li");
      var img = document.createElement("img");
      img.src = URL.createObjectURL(photo.blob);
      img.alt = photo.name;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary remove";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", I18N.remove.replace("{n}", i + 1));
      remove.addEventListener("click", function () {
        draft.photos.splice(i, 1);
        showPhotos();
        save();
        photoInput.focus();
      });
      item.appendChild(img);
      item.appendChild(remove);
      list.appendChild(item);
    });
    $("photo-status").textContent = draft.photos.length ? I18N.photos
      .replace("{count}", draft.photos.length).replace("{kb}", Math.round(bytes / 1024)) : "";
  }
  photoInput.addEventListener("change", function () {
    var files = Array.prototype.slice.call(photoInput.files);
    photoInput.value = "";
    clearError("photos");
    if (draft.photos.length + files.length > MAX_PHOTOS) {
      showError("photos", I18N.tooMany);
      files = files.slice(0, Math.max(0, MAX_PHOTOS - draft.photos.length));
    }
    if (!files.length) { return; }
    $("photo-status").textContent = I18N.preparing;
    preparing = Promise.all(files.map(function (file) {
      return PhotoPrep.prepare(file).catch(function () {
        showError("photos", I18N.photoBad.replace("{name}", file.name));
        return null;
      });
    })).then(function (ready) {
      ready.forEach(function (photo) {
        if (!photo) { return; }
        draft.photos.push(photo);
        if (photo.gps && !latInput.value) {
          setPin(photo.gps[0], photo.gps[1], "photo");
          map.setView(photo.gps, 16);
        }
      });
      showPhotos();
      return save();
    });
  });

  // -- sending, once, when the network is there -------------------------------------------
  function idle() { sending = false; button.disabled = false; button.textContent = I18N.send; }
  function waiting(text) {
    idle();
    net.textContent = text || I18N.waiting;
    net.hidden = false;
    document.body.classList.add("offline");
  }
  function send() {
    if (sending || !draft.queued) { return; }
    if (navigator.onLine === false) { waiting(); return; }
    sending = true;
    button.disabled = true;
    button.textContent = I18N.sending;
    fetch(form.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("token " + r.status); } return r.json(); })
      .then(function (token) {
        var body = new FormData();
        Object.keys(draft.fields).forEach(function (name) { body.append(name, draft.fields[name]); });
        body.set("csrf_token", token.csrf_token);
        body.set("client_key", draft.key);
        draft.photos.forEach(function (photo) { body.append("photos", photo.blob, photo.name); });
        return fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
          headers: { Accept: "application/json" } });
      })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) { return { status: r.status, body: b }; });
      })
      .then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          window.DraftStore.clear().catch(noop).then(function () { window.location.assign(answer.body.url); });
          return;
        }
        if (answer.status === 429 || answer.status >= 500) { // the server's turn: try again later
          waiting(I18N.failed);
          setTimeout(send, 30000);
          return;
        }
        draft.queued = false; // refused: the resident has something to change
        save();
        idle();
        showError(answer.body.field, answer.body.message || I18N.failed);
      }, function () { waiting(); }); // no network: the draft waits on the phone
  }
  window.addEventListener("online", function () { net.hidden = true; document.body.classList.remove("offline"); send(); });
  window.addEventListener("offline", function () { if (draft.queued) { waiting(); } });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    ["description", "photos", "address", "consent"].forEach(clearError);
    formError.hidden = true;
    if ($("description").value.trim().length < 10) { showError("description", I18N.needText); return; }
    if (!$("consent").checked) { showError("consent", I18N.needConsent); return; }
    button.disabled = true;
    preparing.then(function () {
      draft.queued = true;
      return save();
    }).then(send);
  });

  // -- reports already filed nearby --------------------------------------------------------
  var category = $("category");
  function showNearby() {
    var box = $("nearby");
    if (!latInput.value || navigator.onLine === false) { return; }
    var query = "?lat=" + latInput.value + "&lon=" + lonInput.value +
      (category && category.value ? "&category=" + encodeURIComponent(category.value) : "");
    fetch(form.dataset.nearbyUrl + query, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { reports: [] }; })
      .then(function (found) {
        var list = $("nearby-list");
        list.textContent = "";
        found.reports.forEach(function (report) {
          var item = document.createElement("li");
          var line = document.createElement("p");
          line.textContent = I18N.nearbyLine.replace("{code}", report.code)
            .replace("{category}", report.category_label || "—").replace("{status}", report.status_label);
          var text = document.createElement("p");
          text.className = "hint";
          text.textContent = (report.description || "").slice(0, 140);
          var link = document.createElement("a");
          link.href = report.tracking_url;
          link.textContent = I18N.follow + " " + report.code;
          item.appendChild(line);
          item.appendChild(text);
          item.appendChild(link);
          list.appendChild(item);
        });
        box.hidden = !found.reports.length;
      }).catch(noop);
  }

  // -- category questions: only the chosen category's are shown and sent -------------------
  function showQuestions() {
    var sets = document.querySelectorAll("fieldset.questions");
    for (var i = 0; i < sets.length; i++) {
      var on = sets[i].dataset.category === category.value;
      sets[i].hidden = !on;
      sets[i].disabled = !on;
    }
  }
  if (category) {
    category.addEventListener("change", function () { showQuestions(); showNearby(); });
    showQuestions();
  }

  // -- start: a draft left on the phone comes back (and goes if it was waiting) ------------
  function fresh() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : $("client_key").value;
  }
  function start(saved) {
    if (saved && saved.key && (saved.queued || (saved.photos || []).length ||
        (saved.fields && saved.fields.description))) {
      draft = saved;
      restore(draft.fields || {});
      if (category) { showQuestions(); }
      showPhotos();
      net.textContent = I18N.restored;
      net.hidden = false;
    } else {
      draft.key = fresh();
      if (latInput.value) { draft.fields = fields(); } // the server's page after a refusal
    }
    if (latInput.value && lonInput.value) {
      setPin(parseFloat(latInput.value), parseFloat(lonInput.value), sourceInput.value || "pin");
    }
    if (draft.queued) { send(); }
  }
  (window.DraftStore ? DraftStore.load() : Promise.resolve(null)).then(start, function () { start(null); });

  if ("serviceWorker" in navigator && form.dataset.worker) {
    navigator.serviceWorker.register(form.dataset.worker, { scope: "/" }).catch(noop);
  }
})();
