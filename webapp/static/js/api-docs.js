// The API docs page (/api/v1/docs/): swagger-ui started from this file rather than from the
// inline script of flask-swagger-ui's page, so the page runs under the site's strict CSP.
// Its settings come from the data-config attribute (JSON written by flask-swagger-ui).
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  var config = JSON.parse(el.dataset.config);
  config.presets = [SwaggerUIBundle.presets.apis];
  config.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
  // Without the standalone top bar: its logo is an SVG with its own style element (blocked),
  // and its box that loads another document is of no use for this one API.
  config.layout = "BaseLayout";
  // No badge fetched from validator.swagger.io: the document's address stays here.
  config.validatorUrl = null;
  var ui = SwaggerUIBundle(config);
  if (el.dataset.oauthConfig) { ui.initOAuth(JSON.parse(el.dataset.oauthConfig)); }
  window.ui = ui;
})();
