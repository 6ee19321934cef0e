/* Behaviour of the leadership pages without inline handlers (the pages run under a strict CSP):
   print buttons, period selects that submit on change, and widths of the status and progress
   bars, which the server gives as data attributes (style="" is not allowed). */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-width]").forEach(function (el) {
    el.style.width = el.dataset.width + "%";
  });
  document.querySelectorAll("[data-left]").forEach(function (el) {
    el.style.left = el.dataset.left + "%";
  });
  document.querySelectorAll("[data-height]").forEach(function (el) {
    el.style.height = el.dataset.height + "px";
  });
})();
