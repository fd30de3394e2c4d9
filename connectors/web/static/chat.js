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
  // The embed (/embed) starts its sessions and shows its fiche at its own addresses.
  var routes = { start: "/chat/session", fiche: "/fiche", ficheMd: "/fiche.md" };
  Object.keys(routes).forEach(function (k) { routes[k] = body.getAttribute("data-" + k.toLowerCase()) || routes[k]; });
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

  function details(cls, summary, items, tag) {
    return el("details", { "class": cls }, [el("summary", {}, [summary]), el(tag || "ul", {}, items)]);
  }

  function contactCard(c) {
    var k = c.contact || {}, reach = [];
    if (k.website) reach.push(link(k.website, "Site web"));
    else if (k.site_page) reach.push(link(k.site_page, "Sur son site"));
    if (k.phone) reach.push(el("a", { href: "tel:" + k.phone.replace(/\s/g, "") }, [k.phone]));
    if (k.email) reach.push(el("a", { href: "mailto:" + k.email }, [k.email]));
    var refs = (c.sources || []).map(function (s) {
      var seen = s.seen ? " (consulté le " + s.seen.split("-").reverse().join("/") + ")" : "";
      return el("li", {}, [link(s.url, s.title || s.document || s.url), seen]);
    }).concat((c.cards || []).map(function (g) { return el("li", {}, [g.title + " — " + g.origin]); }));
    // With a way in shown, how to reach it and who carries it are details, folded.
    var folded = reach.length > 0 || !!c.finder;
    var how = el("p", { "class": "how" }, [c.how_to_reach + (k.address ? " — " + k.address : "")]);
    var correction = el("p", { "class": "correct" }, [el("a", { href: "/correction?structure=" + encodeURIComponent(c.id) }, ["Vous êtes cette structure ? Signaler une correction"])]);
    return el("li", { "class": "contact" }, [
      el("h3", {}, [c.name]),
      el("p", { "class": "what" }, [c.verified ? null : el("span", { "class": "badge" }, ["à vérifier"]), c.verified ? null : " ", c.what || c.kind_label]),
      el("p", { "class": "why" }, [c.why]),
      reach.length ? el("p", { "class": "reach" }, reach) : null,
      c.finder ? el("p", { "class": "reach finder" }, [link(c.finder.url, c.finder.label)]) : null,
      folded ? null : how,
      (refs.length || folded) ? el("details", { "class": "sources" }, [
        el("summary", {}, [folded ? "Détails et sources" : "Sources", el("span", { "class": "sr-only" }, [" de cette fiche"])]),
        folded ? how : null,
        c.carrier ? el("p", { "class": "carrier" }, ["Porté par : " + c.carrier]) : null,
        el("ul", {}, refs),
        correction
      ]) : correction
    ]);
  }

  function titled(cls, title, list) { return el("div", { "class": "part " + cls }, [el("p", { "class": "part-title" }, [title]), list]); }

  function renderPart(p) {
    switch (p.type) {
      case "ack": return el("p", { "class": "part part-ack" }, [p.text]);
      case "answer": {
        var paras = (p.body || "").split("\n\n").filter(function (t) { return t.trim(); })
          .map(function (t) { return el("p", {}, [t.trim()]); });
        var cites = p.citations || [];
        if (cites.length) {
          paras.push(details("sources", "Sources (" + cites.length + ")", cites.map(function (s) {
            return el("li", {}, [el("strong", {}, [s.title]), " — " + s.origin]);
          }), "ol"));
        }
        return el("div", { "class": "part part-answer" }, paras);
      }
      case "contacts": {
        // Contacts shown in full in an earlier reply are only named again.
        var again = p.already_shown || [];
        return titled("part-contacts", p.title, el("ul", { "class": "contacts" }, (p.contacts || []).map(function (c) {
          return again.indexOf(c.id) >= 0
            ? el("li", { "class": "contact contact-again" }, [el("h3", {}, [c.name]), el("p", { "class": "why" }, ["Déjà proposé plus haut."])])
            : contactCard(c);
        })));
      }
      case "steps": return titled("part-steps", p.title, el("ul", { "class": "steps" }, (p.steps || []).map(function (s) { return el("li", {}, [s.text]); })));
      case "guides": return details("part part-guides sources", p.title + " (" + (p.guides || []).length + ")", (p.guides || []).map(function (g) {
        return el("li", {}, [link((g.urls || [])[0], g.title), " — " + g.origin]);
      }));
      case "question": return p.text.trim() ? el("p", { "class": "part part-question" }, [p.text]) : null;
      default: return el("p", { "class": "part part-notice" }, [p.text]);
    }
  }

  function bubble(role, text, data) {
    var children = [el("p", { "class": "who" }, [role === "user" ? "Vous" : "Aiguillage"])];
    var parts = data && data.parts ? data.parts : [];
    if (parts.length) children.push(el("div", { "class": "parts" }, parts.map(renderPart)));
    else children.push(el("div", { "class": "text" }, [text]));
    if (data && data.action === "fiche") {
      children.push(el("p", { "class": "fiche-links" }, [el("a", { href: routes.fiche }, ["Ouvrir ma fiche (page imprimable)"]), " · ",
        el("a", { href: routes.ficheMd, download: "" }, ["Télécharger en Markdown"])]));
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
    return fetch(routes.start, { method: "POST", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("session"); return r.json(); })
      .then(function (d) { sessionId = d.session_id; return sessionId; });
  }
  // A message keeps its key until it got a reply: sent again (a retry after a lost
  // connection, or the person pressing "Envoyer" again), the server does not handle it twice.
  var pending = null;
  function keyFor(text) {
    if (!pending || pending.text !== text) {
      var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
      pending = { text: text, key: id };
    }
    return pending.key;
  }
  function post(text) {
    var key = keyFor(text);
    return ensureSession().then(function (id) {
      var once = function () {
        return fetch("/api/sessions/" + encodeURIComponent(id) + "/messages", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json",
                     "Idempotency-Key": key },
          body: JSON.stringify({ text: text })
        });
      };
      // One quiet retry when the connection broke: the key makes it safe.
      return once().catch(function () {
        return new Promise(function (resolve) { setTimeout(resolve, 800); }).then(once);
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
        pending = null;
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
