// The report being written, kept on the phone (IndexedDB) so that a reload, a lost signal or
// a closed tab loses nothing: its fields, its downscaled photos (as Blobs), its point, its
// idempotency key and whether it waits to be sent. One draft at a time, under one key.
// Written here: four calls on one object store; idb-keyval would do the same but has to be
// vendored for a page that must stay small.
(function () {
  "use strict";
  var DB = "phananh";
  var STORE = "drafts";
  var KEY = "current";

  function open() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, act) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = act(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request && request.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  window.DraftStore = {
    load: function () { return run("readonly", function (s) { return s.get(KEY); }); },
    save: function (draft) { return run("readwrite", function (s) { return s.put(draft, KEY); }); },
    clear: function () { return run("readwrite", function (s) { return s.delete(KEY); }); }
  };
})();
