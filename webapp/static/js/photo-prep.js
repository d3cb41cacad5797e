// Photos made light before they leave a cheap phone: downscaled to PhotoPrep.MAX_SIDE pixels
// on the long side and re-encoded as JPEG, after reading the GPS point from the original's
// EXIF (a canvas drops it). Written here rather than taken from npm: the EXIF part is about
// sixty lines for the four GPS tags, where exifr or exif-js would add 20-40 KB to a page
// whose budget is 150 KB. The server still accepts full-size photos from other clients.
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  var QUALITY = 0.82;

  // -- EXIF: GPSLatitude/GPSLongitude with their N/S E/W references, from a JPEG's APP1.
  function gpsFromExif(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) { return null; }
    var offset = 2;
    while (offset + 4 <= view.byteLength) {
      var marker = view.getUint16(offset);
      var size = view.getUint16(offset + 2);
      if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) { // "Exif"
        return gpsFromTiff(view, offset + 10);
      }
      if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) { return null; }
      offset += 2 + size;
    }
    return null;
  }

  function gpsFromTiff(view, tiff) {
    if (tiff + 8 > view.byteLength) { return null; }
    var little = view.getUint16(tiff) === 0x4949;
    var u16 = function (at) { return view.getUint16(at, little); };
    var u32 = function (at) { return view.getUint32(at, little); };
    var entries = function (ifd) {
      var found = {};
      if (ifd + 2 > view.byteLength) { return found; }
      var count = u16(ifd);
      for (var i = 0; i < count; i++) {
        var entry = ifd + 2 + i * 12;
        if (entry + 12 > view.byteLength) { break; }
        found[u16(entry)] = { type: u16(entry + 2), count: u32(entry + 4), at: entry + 8 };
      }
      return found;
    };
    var ifd0 = entries(tiff + u32(tiff + 4));
    if (!ifd0[0x8825]) { return null; }
    var gps = entries(tiff + u32(ifd0[0x8825].at));
    var ref = function (tag) {
      return gps[tag] ? String.fromCharCode(view.getUint8(gps[tag].at)) : "";
    };
    var degrees = function (tag) {
      var e = gps[tag];
      if (!e || e.type !== 5 || e.count !== 3) { return null; }
      var at = tiff + u32(e.at);
      if (at + 24 > view.byteLength) { return null; }
      var value = 0;
      for (var i = 0; i < 3; i++) {
        var den = u32(at + i * 8 + 4);
        if (!den) { return null; }
        value += u32(at + i * 8) / den / Math.pow(60, i);
      }
      return value;
    };
    var lat = degrees(2);
    var lon = degrees(4);
    if (lat === null || lon === null || (lat === 0 && lon === 0)) { return null; }
    if (ref(1) === "S") { lat = -lat; }
    if (ref(3) === "W") { lon = -lon; }
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) { return null; }
    return [lat, lon];
  }

  // -- Downscaling: the long side to MAX_SIDE, the orientation applied, JPEG.
  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  function downscale(file) {
    return decode(file).then(function (image) {
      var w = image.width, h = image.height;
      var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
      if (scale === 1 && file.type === "image/jpeg" && file.size < 600 * 1024) {
        return file; // small already: sent as it is
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(w * scale);
      canvas.height = Math.round(h * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", QUALITY);
      });
    });
  }

  function jpegName(name) {
    return (name || "anh").replace(/\.[A-Za-z0-9]+$/, "") + ".jpg";
  }

  // A File → {blob, name, gps: [lat, lon] | null, original: bytes}
  function prepare(file) {
    var head = file.slice(0, 256 * 1024);
    var gps = (head.arrayBuffer ? head.arrayBuffer() : new Response(head).arrayBuffer())
      .then(gpsFromExif).catch(function () { return null; });
    return Promise.all([gps, downscale(file)]).then(function (done) {
      var blob = done[1];
      return {
        blob: blob,
        name: blob === file ? file.name : jpegName(file.name),
        gps: done[0],
        original: file.size
      };
    });
  }

  window.PhotoPrep = { prepare: prepare, gpsFromExif: gpsFromExif, MAX_SIDE: MAX_SIDE };
})();
