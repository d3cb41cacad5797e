// A select marked data-autosubmit sends its form as soon as a choice is made (the form keeps
// a <noscript> button for browsers without JavaScript).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
})();
