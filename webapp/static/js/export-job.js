/* A background export's page (templates/ioc/export_job.html): while the file is being made it
   asks for the page again every few seconds and, once the state changes, shows the new one in
   place; #export-state is a live region, so a screen reader announces it without losing its
   place (as a timed reload of the whole page would). */
(function () {
  "use strict";
  var job = document.getElementById("export-job");
  var state = document.getElementById("export-state");
  if (!job || !state || !job.dataset.poll) { return; }
  var every = Number(job.dataset.poll) * 1000;

  function later() { window.setTimeout(check, every); }

  function check() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("export-job");
        var freshState = page.getElementById("export-state");
        if (!fresh || !freshState) { later(); return; }
        if (fresh.dataset.status !== job.dataset.status) {
          job.dataset.status = fresh.dataset.status;
          state.innerHTML = freshState.innerHTML;
        }
        if (fresh.dataset.poll) { later(); }
      })
      .catch(later);  // the network or the server hiccuped: try again later
  }

  later();
})();
