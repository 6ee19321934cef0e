/* Behaviour of the leadership pages without inline handlers (the pages run under a strict CSP):
   print buttons and period selects that submit on change. The status and progress bars are
   inline SVG drawn by the server: they need no script. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
