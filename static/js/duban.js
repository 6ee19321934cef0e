// 督办 pages: filters apply on change, and a form is not sent twice by a double tap (a second
// transition would be refused as illegal and show a confusing message).
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form.db-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
})();
