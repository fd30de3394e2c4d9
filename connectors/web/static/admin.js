/* Curators' page, progressive enhancement: without this file a département of the map is a
   link that reloads the page with its gaps; with it, the gaps panel is loaded in place, the
   address follows (so the back button and a reload still work) and focus moves to the panel.
   Server HTML comes from our own template (autoescaped), fetched from the same origin. */
(function () {
  "use strict";
  var map = document.getElementById("carte");
  var slot = document.getElementById("panneau-lacunes");
  if (!map || !slot || !window.fetch || !window.DOMParser) return;

  function select(code) {
    Array.prototype.forEach.call(map.querySelectorAll(".dep"), function (a) {
      a.classList.toggle("selected", a.getAttribute("data-code") === code);
    });
  }

  function show(code, push) {
    return fetch("/admin/lacunes/" + encodeURIComponent(code), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var panel = doc.getElementById("lacunes");
        if (!panel) throw new Error("no panel");
        slot.replaceChildren(document.importNode(panel, true));
        select(code);
        if (push) history.pushState({ code: code }, "", "/admin?departement=" + encodeURIComponent(code) + "#lacunes");
        var fresh = document.getElementById("lacunes");
        if (fresh) fresh.focus();
      });
  }

  map.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".dep") : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var code = link.getAttribute("data-code");
    show(code, true).catch(function () { window.location.href = link.getAttribute("href"); });
  });

  window.addEventListener("popstate", function () {
    var code = new URLSearchParams(window.location.search).get("departement");
    if (code) show(code, false).catch(function () { window.location.reload(); });
  });
}());
