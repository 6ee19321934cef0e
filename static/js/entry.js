/* Entry grid and reviewer inbox: keyboard moves, per-cell checks by the server's own rules,
   unsaved-change guard, and the inbox's select-all. Plain JS, no libraries. */
(function () {
  "use strict";

  function entryGrid(form) {
    var checkUrl = form.getAttribute("data-check-url");
    var dirty = false;
    var submitting = false;
    var cols = ["value-input", "comment-input"];

    function inputsOf(cls) {
      return Array.prototype.slice.call(form.querySelectorAll("input." + cls + ":not([disabled])"));
    }

    // Enter moves down the column (Shift+Enter up) instead of submitting the form.
    form.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" || ev.target.tagName !== "INPUT") return;
      var cls = cols.filter(function (c) { return ev.target.classList.contains(c); })[0];
      if (!cls) return;
      ev.preventDefault();
      var list = inputsOf(cls);
      var i = list.indexOf(ev.target) + (ev.shiftKey ? -1 : 1);
      if (i >= 0 && i < list.length) { list[i].focus(); list[i].select(); }
    });

    var factor = parseFloat(form.getAttribute("data-factor")) || 3;

    // The outlier rule of districts.rules (over `factor` times or under 1/`factor` of last
    // period's value), run as the official types so a typo is seen before it is saved.
    function warnFor(input, normalised) {
      var warn = document.getElementById("warn-" + input.id.slice(2));
      if (!warn) return;
      var prev = parseFloat(input.getAttribute("data-prev"));
      var cur = parseFloat(normalised);
      var text = "";
      if (isFinite(prev) && isFinite(cur) && prev > 0 && cur >= 0) {
        if (cur > factor * prev) text = "⚠ " + form.getAttribute("data-msg-high");
        else if (cur * factor < prev) text = "⚠ " + form.getAttribute("data-msg-low");
      }
      warn.textContent = text;
      input.closest("tr").classList.toggle("has-warning", text !== "");
    }

    // A quick local reading of what was typed (thousands separators, full-width digits, a
    // percent sign); the server's own check follows on change.
    function localNumber(text) {
      var t = text.replace(/[\uFF10-\uFF19]/g, function (d) {
        return String.fromCharCode(d.charCodeAt(0) - 0xFEE0);
      }).replace(/[,，\s%％]/g, "").replace("．", ".");
      return t === "" ? NaN : Number(t);
    }

    function check(input) {
      var msg = document.getElementById(input.getAttribute("aria-describedby"));
      var url = checkUrl + "?element=" + encodeURIComponent(input.getAttribute("data-element")) +
        "&value=" + encodeURIComponent(input.value);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.ok) {
            msg.textContent = "";
            input.removeAttribute("aria-invalid");
            input.closest("tr").classList.remove("has-error");
            warnFor(input, data.value);
          } else {
            msg.textContent = data.error || "";
            input.setAttribute("aria-invalid", "true");
            input.closest("tr").classList.add("has-error");
          }
        })
        .catch(function () { /* the server checks again on save */ });
    }

    inputsOf("value-input").forEach(function (input) {
      input.addEventListener("change", function () { check(input); });
      input.addEventListener("input", function () {
        warnFor(input, localNumber(input.value));
        var changed = input.value !== input.getAttribute("data-initial");
        input.closest("tr").classList.toggle("is-dirty", changed);
        if (changed) dirty = true;
      });
    });
    inputsOf("comment-input").forEach(function (input) {
      input.addEventListener("input", function () { dirty = true; });
    });
    inputsOf("yesno-input").forEach(function (input) {
      input.addEventListener("change", function () {
        dirty = true;
        input.closest("tr").classList.add("is-dirty");
      });
    });
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (ev) {
      if (dirty && !submitting) {
        ev.preventDefault();
        ev.returnValue = form.getAttribute("data-msg-unsaved");
        return ev.returnValue;
      }
    });
    var firstError = form.querySelector("input[aria-invalid='true']");
    if (firstError) firstError.focus();
  }

  function inbox(form) {
    var all = document.getElementById("select-all");
    var counter = document.getElementById("picked-count");
    function picks(group) {
      var sel = "input.pick" + (group ? "[data-group='" + group + "']" : "");
      return Array.prototype.slice.call(form.querySelectorAll(sel));
    }
    function update() {
      var n = picks().filter(function (p) { return p.checked; }).length;
      if (counter) counter.textContent = n ? String(n) + " ✓" : "";
    }
    if (all) {
      all.addEventListener("change", function () {
        picks().forEach(function (p) { p.checked = all.checked; });
        form.querySelectorAll("input.group-toggle").forEach(function (g) { g.checked = all.checked; });
        update();
      });
    }
    form.querySelectorAll("input.group-toggle").forEach(function (toggle) {
      toggle.addEventListener("change", function () {
        picks(toggle.getAttribute("data-group")).forEach(function (p) { p.checked = toggle.checked; });
        update();
      });
    });
    form.addEventListener("change", function (ev) {
      if (ev.target.classList.contains("pick")) update();
    });
  }

  // Changing the unit lists that unit's own periods: reload the picker for it.
  function unitPicker(select) {
    select.addEventListener("change", function () {
      if (!select.value) return;
      var form = select.form;
      window.location.href = form.getAttribute("action") + "?unit=" + encodeURIComponent(select.value);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pick = document.getElementById("pick-unit");
    if (pick) unitPicker(pick);
    var form = document.getElementById("entry-form");
    if (form) entryGrid(form);
    var review = document.getElementById("review-form");
    if (review) inbox(review);
  });
})();
