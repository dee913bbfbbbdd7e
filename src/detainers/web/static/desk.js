// The web desk's only script: live countdowns, the dashboard's self-refresh, intake form helpers.
// Everything works without it; it just saves clicks and keeps the clock honest.
(function () {
  "use strict";

  function human(ms) {
    var s = Math.abs(Math.round(ms / 1000));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    return m ? m + " min" : "less than a minute";
  }

  function tick(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      var ms = at - now;
      el.textContent = ms < 0 ? human(ms) + " overdue" : "in " + human(ms);
    });
  }

  function refresher(board) {
    var seconds = parseInt(board.getAttribute("data-refresh"), 10);
    var src = board.getAttribute("data-src");
    if (!seconds || !src) return;
    setInterval(function () {
      if (document.hidden) return;
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (r.redirected || !r.ok) throw new Error("refresh failed: " + r.status);
          return r.text();
        })
        .then(function (html) { board.innerHTML = html; tick(board); board.setAttribute("data-refreshed", String(Date.now())); })
        .catch(function () { board.setAttribute("data-refresh-error", "1"); });
    }, seconds * 1000);
  }

  function intake(form) {
    var select = form.querySelector("#f-form");
    if (!select) return;
    var note = form.querySelector("[data-form-note]");
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var wanted = (option.getAttribute("data-requests") || "").split(" ");
      form.querySelectorAll("[data-request]").forEach(function (box) { box.checked = wanted.indexOf(box.value) >= 0; });
      if (note) note.textContent = option.getAttribute("data-note") || "";
    });
    var box2 = form.querySelector("#f-box2");
    var box1 = form.querySelectorAll("[data-box1]");
    if (box2) {
      box2.addEventListener("change", function () { if (box2.checked) box1.forEach(function (b) { b.checked = false; }); });
      box1.forEach(function (b) { b.addEventListener("change", function () { if (b.checked) box2.checked = false; }); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 15000);
    var board = document.getElementById("board");
    if (board) refresher(board);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    var form = document.querySelector("form.intake");
    if (form) intake(form);
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });
})();
