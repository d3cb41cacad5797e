// Service worker of the report form (rendered by webapp.blueprints.public.service_worker).
// Only the form's page, its static files and the ward boundaries are kept, network first:
// online, everything is fresh; offline, the form still opens and its draft (IndexedDB, kept
// by the page) waits there. Nothing else is cached: tracking links and the back office never
// land in the phone's cache.
"use strict";
var CACHE = "phananh-form-{{ version }}";
var FORM = {{ form_url|tojson }};
// Kept at install: the form and its files. The ward boundaries (the heaviest answer) are kept
// when the page fetches them through the worker, not downloaded a second time at install.
var SHELL = {{ ([form_url] + assets)|tojson }};
var KEPT = SHELL.concat([{{ units_url|tojson }}]);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("phananh-form-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function kept(url) {
  return url.origin === self.location.origin &&
    (url.pathname === FORM || KEPT.indexOf(url.pathname) !== -1);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || !kept(url)) { return; }
  // The form in another language is its own page; offline, any copy of the form will do.
  var key = url.pathname === FORM ? url.pathname + url.search : url.pathname;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (hit) {
      return hit || caches.match(FORM);
    });
  }));
});
