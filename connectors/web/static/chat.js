/* Aiguillage web chat, progressive enhancement: without this file the forms post to /chat
   and the page reloads; with it, messages go through the JSON API without a reload.
   Every text from the server is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var body = document.body;
  var log = document.getElementById("messages");
  var form = document.getElementById("envoi");
  if (!log || !form || !window.fetch) return;
  var input = document.getElementById("saisie");
  var quick = document.getElementById("reponses");
  var status = document.getElementById("etat");
  var errorBox = document.getElementById("erreur");
  var sendButton = form.querySelector("button[type=submit]");
  var sessionId = body.getAttribute("data-session") || "";
  var busy = false;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === "") return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function link(url, label) {
    return /^https?:\/\//.test(url || "") ? el("a", { href: url, rel: "noopener noreferrer" }, [label || url]) : (label || url || "");
  }
  function showError(text) { errorBox.textContent = text; }

  function splitReply(text) {
    var lines = text.split("\n");
    var start = -1, end = lines.length, i;
    for (i = 0; i < lines.length; i++) if (/^Voici \d+ contacts?/.test(lines[i])) { start = i; break; }
    if (start < 0) return [text, ""];
    for (i = start + 1; i < lines.length; i++) {
      if (/^(Prochaines étapes|Pour aller plus loin|Pour affiner)/.test(lines[i])) { end = i; break; }
    }
    return [lines.slice(0, start + 1).join("\n").trim(), lines.slice(end).join("\n").trim()];
  }

  function contactCard(c) {
    var k = c.contact || {}, items = [];
    if (k.website) items.push(el("li", {}, ["Site : ", link(k.website)]));
    if (k.phone) items.push(el("li", {}, ["Téléphone : ", el("a", { href: "tel:" + k.phone.replace(/\s/g, "") }, [k.phone])]));
    if (k.email) items.push(el("li", {}, ["Courriel : ", el("a", { href: "mailto:" + k.email }, [k.email])]));
    if (k.address) items.push(el("li", {}, ["Adresse : " + k.address]));
    var refs = (c.sources || []).map(function (s) {
      var seen = s.seen ? " (consulté le " + s.seen.split("-").reverse().join("/") + ")" : "";
      return el("li", {}, [link(s.url, s.title || s.document || s.url), seen]);
    }).concat((c.cards || []).map(function (g) { return el("li", {}, [g.title + " — " + g.origin]); }));
    return el("li", { "class": "contact" }, [
      el("h3", {}, [c.name]),
      el("p", { "class": "tags" }, [el("span", { "class": "kind" }, [c.kind_label]),
        c.verified ? null : " ", c.verified ? null : el("span", { "class": "badge" }, ["à vérifier"])]),
      el("p", {}, [el("strong", {}, ["Pourquoi :"]), " " + c.why]),
      el("p", {}, [el("strong", {}, ["Comment le joindre :"]), " " + c.how_to_reach]),
      items.length ? el("ul", { "class": "coords" }, items) : null,
      c.carrier ? el("p", {}, ["Porté par : " + c.carrier]) : null,
      refs.length ? el("details", { "class": "sources" }, [el("summary", {}, ["Sources de cette fiche"]), el("ul", {}, refs)]) : null
    ]);
  }

  function bubble(role, text, data) {
    var parts = data && data.contacts && data.contacts.length ? splitReply(text) : [text, ""];
    var children = [el("p", { "class": "who" }, [role === "user" ? "Vous" : "Aiguillage"]),
      el("div", { "class": "text" }, [parts[0]])];
    if (data) {
      if (data.contacts && data.contacts.length) children.push(el("ul", { "class": "contacts" }, data.contacts.map(contactCard)));
      if (parts[1]) children.push(el("div", { "class": "text" }, [parts[1]]));
      if (data.action === "fiche") {
        children.push(el("p", { "class": "fiche-links" }, [el("a", { href: "/fiche" }, ["Ouvrir ma fiche (page imprimable)"]), " · ",
          el("a", { href: "/fiche.md", download: "" }, ["Télécharger en Markdown"])]));
      }
      if (data.sources && data.sources.length) {
        children.push(el("details", { "class": "sources" }, [el("summary", {}, ["Sources (" + data.sources.length + ")"]),
          el("ul", {}, data.sources.map(function (s) { return el("li", {}, [el("strong", {}, [s.title]), " — " + s.origin]); }))]));
      }
    }
    var item = el("li", { "class": "msg msg-" + role }, children);
    log.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  var hidden = (quick.getAttribute("data-hide") || "").split("|");  // offered in the action bar
  function renderQuick(replies) {
    replies = replies.filter(function (q) { return hidden.indexOf(q) < 0; });
    while (quick.children.length > 1) quick.removeChild(quick.lastChild);  // keeps the hidden "next"
    replies.forEach(function (q) { quick.appendChild(el("button", { type: "submit", name: "text", value: q }, [q])); });
    quick.hidden = replies.length === 0;
  }

  function slotText(v) {
    if (v === null || v === undefined || (Array.isArray(v) && !v.length) || (typeof v === "object" && !Object.keys(v).length)) return "—";
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function updateState(state) {
    document.querySelectorAll("[data-slot]").forEach(function (dd) {
      dd.textContent = slotText(state[dd.getAttribute("data-slot")]);
    });
  }

  function ensureSession() {
    if (sessionId) return Promise.resolve(sessionId);
    return fetch("/chat/session", { method: "POST", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("session"); return r.json(); })
      .then(function (d) { sessionId = d.session_id; return sessionId; });
  }
  function post(text) {
    return ensureSession().then(function (id) {
      return fetch("/api/sessions/" + encodeURIComponent(id) + "/messages", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ text: text })
      });
    });
  }

  function send(text, fromButton) {
    if (busy) return;
    if (!text.trim()) { showError("Le message est vide."); input.focus(); return; }
    busy = true; sendButton.disabled = true; showError(""); status.textContent = "Aiguillage prépare sa réponse…";
    post(text).then(function (r) {
      if (r.status === 404) { sessionId = ""; return post(text); }  // erased or purged: start afresh
      return r;
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { showError(data.detail || "Le message n'a pas pu être envoyé."); return; }
        if (data.action === "restart" || data.action === "forget") {
          while (log.firstChild) log.removeChild(log.firstChild);
        } else {
          bubble("user", text, null);
        }
        if (data.action === "forget") sessionId = "";
        bubble("assistant", data.reply, data);
        renderQuick(data.quick_replies || []);
        updateState(data.state || {});
        input.value = "";
      });
    }).catch(function () {
      showError("Connexion impossible : votre message n'est pas parti. Réessayez dans un instant.");
    }).then(function () {
      busy = false; sendButton.disabled = false; status.textContent = "";
      if (fromButton) input.focus();  // the pressed quick reply is gone: keep focus in the chat
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value, false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(input.value, false); }
  });
  [quick].concat(Array.prototype.slice.call(document.querySelectorAll("form.js-send"))).forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var button = e.submitter;
      if (!button || !button.value) return;  // no submitter support: plain form post
      e.preventDefault();
      send(button.value, true);
    });
  });
  document.getElementById("aide-saisie").textContent += " Entrée envoie, Maj+Entrée va à la ligne.";
})();
