/* Extraction review page: highlight every candidate's span in the source text, link each
   highlight to its row and back, and show whether a row is accepted, rejected or edited.
   The text and the spans come from the page (json_script); plain JS, no libraries. */
(function () {
  "use strict";

  var doc = document.getElementById("extract-doc");
  var data = document.getElementById("extract-candidates");
  var form = document.getElementById("review-form");
  if (!doc || !data || !form) return;
  var candidates = JSON.parse(data.textContent);
  var source = document.getElementById("extract-text");
  // The spans are offsets into the text as read: take it from the data, not from the DOM.
  var text = source ? JSON.parse(source.textContent) : doc.textContent;

  function row(id) { return document.getElementById("cand-" + id); }

  function decision(id) {
    var checked = form.querySelector('input[name="c' + id + '-decision"]:checked');
    return checked ? checked.value : "";
  }

  // Cut the text at every span boundary; each piece knows which candidates cover it.
  function render() {
    var cuts = {0: true};
    cuts[text.length] = true;
    candidates.forEach(function (c) { cuts[c.start] = true; cuts[c.end] = true; });
    var points = Object.keys(cuts).map(Number).sort(function (a, b) { return a - b; });
    var fragment = document.createDocumentFragment();
    var first = {};
    for (var i = 0; i + 1 < points.length; i++) {
      var s = points[i], e = points[i + 1];
      var covering = candidates.filter(function (c) { return c.start <= s && e <= c.end; });
      var piece = text.slice(s, e);
      if (!covering.length) { fragment.appendChild(document.createTextNode(piece)); continue; }
      var mark = document.createElement("mark");
      mark.className = "hl";
      mark.textContent = piece;
      mark.dataset.ids = covering.map(function (c) { return c.id; }).join(" ");
      covering.forEach(function (c) {
        if (!first[c.id]) { first[c.id] = true; mark.id = mark.id || "mark-" + c.id; }
      });
      fragment.appendChild(mark);
    }
    doc.textContent = "";
    doc.appendChild(fragment);
  }

  function refresh() {
    var accepted = 0;
    candidates.forEach(function (c) {
      var state = decision(c.id);
      var li = row(c.id);
      li.classList.toggle("is-accepted", state === "accept");
      li.classList.toggle("is-rejected", state === "reject");
      if (state === "accept") accepted++;
    });
    doc.querySelectorAll("mark.hl").forEach(function (mark) {
      var ids = mark.dataset.ids.split(" ");
      var states = ids.map(decision);
      mark.classList.toggle("hl-accepted", states.indexOf("accept") !== -1);
      mark.classList.toggle("hl-rejected", states.indexOf("accept") === -1);
    });
    var count = document.getElementById("review-count");
    if (count) count.textContent = accepted + " / " + candidates.length;
  }

  function focusRow(id) {
    var li = row(id);
    if (!li) return;
    document.querySelectorAll(".cand.is-focused").forEach(function (el) { el.classList.remove("is-focused"); });
    li.classList.add("is-focused");
    li.scrollIntoView({block: "nearest"});
  }

  function focusMark(id) {
    var mark = document.getElementById("mark-" + id);
    if (!mark) return;
    doc.querySelectorAll("mark.is-focused").forEach(function (el) { el.classList.remove("is-focused"); });
    doc.querySelectorAll("mark.hl").forEach(function (el) {
      if (el.dataset.ids.split(" ").indexOf(String(id)) !== -1) el.classList.add("is-focused");
    });
    mark.scrollIntoView({block: "center"});
  }

  render();
  refresh();

  doc.addEventListener("click", function (event) {
    var mark = event.target.closest("mark.hl");
    if (mark) focusRow(mark.dataset.ids.split(" ")[0]);
  });
  form.addEventListener("change", function (event) {
    var li = event.target.closest(".cand");
    if (li && !/-decision$/.test(event.target.name)) li.classList.add("is-edited");
    refresh();
  });
  form.querySelectorAll(".cand-quote").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var id = link.closest(".cand").dataset.id;
      focusRow(id);
      focusMark(id);
    });
  });
  function setAll(value) {
    form.querySelectorAll('input[type="radio"][value="' + value + '"]').forEach(function (r) { r.checked = true; });
    refresh();
  }
  document.getElementById("accept-all").addEventListener("click", function () { setAll("accept"); });
  document.getElementById("reject-all").addEventListener("click", function () { setAll("reject"); });
})();
