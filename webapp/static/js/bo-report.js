/* The report page: the reply templates (its map is static/js/report-map.js). */
(function () {
  var pick = document.getElementById("reply-template");
  if (!pick) { return; }
  pick.addEventListener("change", function () {
    document.getElementById(pick.dataset.target).value = pick.value;
  });
})();
