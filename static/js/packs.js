/* Report packs: on the list, offer only the periods of the chosen city; on a pack's page, poll
   its state until it is built (a progress bar), then show the download links. */
(function () {
  "use strict";
  var city = document.getElementById("pack-city");
  var asof = document.getElementById("pack-asof");
  if (city && asof) {
    var sync = function () {
      Array.prototype.forEach.call(asof.options, function (o) {
        var hide = o.dataset.city && o.dataset.city !== city.value;
        o.hidden = hide; o.disabled = hide;
        if (hide && o.selected) { asof.value = ""; }
      });
    };
    city.addEventListener("change", sync);
    sync();
  }

  var box = document.getElementById("pack");
  if (!box) { return; }
  var bar = document.getElementById("pack-progress");
  var stateEl = document.getElementById("pack-state");
  var percentEl = document.getElementById("pack-percent");
  var errorEl = document.getElementById("pack-error");
  var waitingEl = document.getElementById("pack-waiting");
  var files = document.getElementById("pack-files");

  function show(s) {
    box.dataset.state = s.state;
    bar.value = s.percent;
    bar.textContent = s.percent + "%";
    percentEl.textContent = s.percent;
    stateEl.textContent = s.step_label && s.state === "running" ? s.state_label + " · " + s.step_label : s.state_label;
    // a queued pack whose build could not reach the task queue yet: it starts by itself later
    waitingEl.hidden = !(s.state === "queued" && s.step === "waiting");
    if (s.error) { errorEl.textContent = s.error; errorEl.hidden = false; }
    if (s.state === "succeeded") {
      document.getElementById("pack-pdf").href = s.pdf_url;
      document.getElementById("pack-xlsx").href = s.xlsx_url;
      files.hidden = false;
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        show(s);
        if (s.state === "queued" || s.state === "running") { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (box.dataset.state === "queued" || box.dataset.state === "running") { poll(); }
})();
