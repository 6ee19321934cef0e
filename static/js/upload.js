/* Upload page: drag-and-drop or choose a file, send it, then poll the job's status JSON and
   show the progress bar, the counts, the error table and the warnings. The upload detail page
   uses the same polling while its job runs. Plain JS, no libraries. */
(function () {
  "use strict";

  var POLL_MS = 700;

  function $(id) { return document.getElementById(id); }

  function fillTable(table, rows) {
    var body = table.querySelector("tbody");
    body.textContent = "";
    rows.forEach(function (e) {
      var tr = document.createElement("tr");
      [e.line, e.column, e.value, e.reason].forEach(function (v, i) {
        var td = document.createElement("td");
        if (i === 0) td.className = "num";
        td.textContent = v === null || v === undefined ? "" : String(v);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function render(run, s) {
    run.hidden = false;
    var bar = $("upload-bar");
    bar.value = s.percent;
    $("upload-percent").textContent = s.percent + "%";
    var state = $("upload-state");
    state.textContent = s.state_label;
    state.className = "upload-state us-" + s.state;
    run.setAttribute("data-final", s.final ? "1" : "0");
    run.setAttribute("data-state", s.state);
    // While it runs, the message says which step it is at (reading, comparing, writing).
    $("upload-phase").textContent = s.final ? "" : (s.message || "");
    if (!s.final) return;
    var result = $("upload-result");
    result.hidden = false;
    $("result-message").textContent = s.message || "";
    result.querySelectorAll("[data-count]").forEach(function (dd) {
      dd.textContent = String(s[dd.getAttribute("data-count")] || 0);
    });
    var errors = $("result-errors");
    errors.hidden = !(s.errors && s.errors.length);
    fillTable(errors.querySelector("table"), s.errors || []);
    var csv = $("errors-csv");
    if (s.errors_csv_url) csv.href = s.errors_csv_url;
    $("errors-truncated").hidden = !s.errors_truncated;
    var warnings = $("result-warnings");
    warnings.hidden = !(s.warnings && s.warnings.length);
    fillTable(warnings.querySelector("table"), s.warnings || []);
    $("result-detail").href = s.detail_url;
  }

  function poll(run, url) {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (s) {
        render(run, s);
        if (!s.final) setTimeout(function () { poll(run, url); }, POLL_MS);
      })
      .catch(function () { setTimeout(function () { poll(run, url); }, POLL_MS * 3); });
  }

  function uploadForm(form) {
    var input = $("id_file");
    var zone = $("dropzone");
    var chosen = $("chosen-file");
    var run = $("upload-run");
    var button = $("upload-submit");

    function show() {
      chosen.textContent = input.files && input.files.length ? input.files[0].name : "";
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.add("is-over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files.length) {
        input.files = ev.dataTransfer.files;
        show();
      }
    });

    form.addEventListener("submit", function (ev) {
      if (!window.FormData || !window.XMLHttpRequest) return; // plain post, then the detail page
      ev.preventDefault();
      if (!input.files || !input.files.length) { chosen.textContent = form.getAttribute("data-msg-choose"); return; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      run.hidden = false;
      $("upload-result").hidden = true;
      $("upload-bar").value = 0;
      $("upload-percent").textContent = "0%";
      $("upload-state").textContent = form.getAttribute("data-msg-sending");
      button.disabled = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          $("upload-state").textContent = form.getAttribute("data-msg-sending") + " " + Math.round(100 * e.loaded / e.total) + "%";
        }
      });
      xhr.addEventListener("load", function () {
        button.disabled = false;
        var s = null;
        try { s = JSON.parse(xhr.responseText); } catch (err) { s = null; }
        if (xhr.status === 202 && s) {
          render(run, s);
          if (!s.final) poll(run, s.status_url);
          form.reset();
          show();
        } else {
          var why = s && (s.detail || (s.errors && s.errors.file && s.errors.file.join(" ")));
          $("upload-state").textContent = form.getAttribute("data-msg-failed") + " (" + xhr.status + ")" + (why ? "：" + why : "");
        }
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        $("upload-state").textContent = form.getAttribute("data-msg-failed");
      });
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("upload-form");
    if (form) uploadForm(form);
    var run = $("upload-run");
    if (run && !form && run.getAttribute("data-final") === "0" && run.getAttribute("data-status-url")) {
      poll(run, run.getAttribute("data-status-url"));
    }
    var rollback = $("rollback-form");
    if (rollback) {
      rollback.addEventListener("submit", function (ev) {
        if (!window.confirm(rollback.getAttribute("data-confirm"))) ev.preventDefault();
      });
    }
  });
})();
