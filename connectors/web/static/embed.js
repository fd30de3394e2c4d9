/* Aiguillage on a partner's page: a launcher, a panel framing HOST/embed (README, Partenaires),
   full screen on a phone. CSSOM styles only (strict CSPs allow them). Options are checked as
   the server does (DEP and REG: the real tables' codes, written in by /embed.js; an accent must
   read on white, 4.5:1); a wrong one is ignored with a warning. The frame is made on first
   open, and the keyboard goes on inside it once loaded. In the frame (data-cadre), Escape
   closes the panel. Served without this comment and the indentation (connectors/web/embed.py). */
(function () {
  "use strict";
  var me = document.currentScript, W = window, BYE = "aiguillage:fermer";
  function warn(t) { W.console && console.warn("Aiguillage : " + t); }
  if (!me || !me.src) return warn("chargez embed.js par <script src>.");
  if (me.hasAttribute("data-cadre")) {
    return document.addEventListener("keydown", function (e) {
      if (e.key == "Escape" && W.parent != W) W.parent.postMessage(BYE, "*");
    });
  }
  var ORIGIN = new URL(me.src, location.href).origin;
  var DEP = " __DEPARTEMENTS__ ", REG = " __REGIONS__ ";
  function has(list, code) { return list.indexOf(" " + code + " ") >= 0; }
  function option(name, ok, expected) {
    var v = (me.getAttribute("data-" + name) || "").trim();
    if (!v || ok(v)) return v;
    warn("data-" + name + "=\"" + v + "\" ignoré (" + expected + ").");
    return "";
  }
  function place(v) {
    var m = /^(?:(\d\d|2[AB]|97\d)|R(\d\d)|((\d\d|2[AB])\d{3}))$/.exec(v.toUpperCase());
    return !!m && (m[2] ? has(REG, m[2]) : has(DEP, m[1] || (m[4] == "97" ? m[3].slice(0, 3) : m[4])));
  }
  function readable(h) {
    if (h.length == 4) h = h.replace(/\w/g, "$&$&");
    var l = [1, 3, 5].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 1.05 / (0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2] + 0.05) >= 4.5;
  }
  var p = {
    territoire: option("territoire", place, "département, R + région, ou commune INSEE").toUpperCase(),
    partenaire: option("partenaire", function (v) { return /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(v); }, "minuscules, chiffres, tirets"),
    couleur: option("couleur", function (v) { return /^#([0-9a-f]{3}){1,2}$/i.test(v) && readable(v); }, "#rgb ou #rrggbb lisible sur blanc")
  };
  var query = Object.keys(p).filter(function (k) { return p[k]; })
    .map(function (k) { return k + "=" + encodeURIComponent(p[k]); }).join("&");
  var accent = p.couleur || "#00537a", font = "font:600 16px/1.3 system-ui,sans-serif;cursor:pointer;";

  function make(tag, attrs, css, parent, text) {
    var n = document.createElement(tag);
    for (var k in attrs) n.setAttribute(k, attrs[k]);
    n.style.cssText = css;
    n.textContent = text || "";
    return parent.appendChild(n);
  }

  function build() {
    var host = make("div", {}, "position:fixed;right:16px;bottom:16px;z-index:2147483000", document.body);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host, frame, shown;
    var phone = W.matchMedia("(max-width:600px)");
    var launcher = make("button", { type: "button", "aria-controls": "aiguillage" }, font +
      "color:#fff;background:" + accent + ";border:2px solid #fff;border-radius:24px;padding:12px 18px;box-shadow:0 2px 8px #0008",
      root, "Trouver un accompagnement ESS");
    var panel = make("div", { id: "aiguillage", role: "dialog", "aria-label": "Aiguillage, assistant d'orientation ESS" }, "", root);
    var bar = make("div", {}, font + "display:flex;justify-content:space-between;align-items:center;padding:4px 6px 4px 12px;color:#fff;background:" + accent, panel, "Aiguillage");
    make("button", { type: "button" }, font + "font-size:14px;border:0;border-radius:14px;padding:5px 12px;background:#fff;color:" + accent, bar, "Fermer").onclick = shut;

    function layout(show) {
      launcher.setAttribute("aria-expanded", shown = show);
      panel.style.cssText = "flex-direction:column;position:fixed;background:#fff;box-shadow:0 4px 24px #0008;overflow:hidden;" +
        (phone.matches ? "inset:0;width:100%;height:100%" : "inset:auto 16px 80px auto;width:min(400px,calc(100vw - 32px));height:min(600px,calc(100vh - 100px));border-radius:12px") +
        ";display:" + (show ? "flex" : "none");
    }
    function open() {
      if (!frame) {
        frame = make("iframe", { src: ORIGIN + "/embed" + (query && "?" + query), title: "Aiguillage : trouver le bon accompagnement pour votre projet ESS" },
          "flex:1;width:100%;border:0", panel);
        frame.onload = function () { frame.onload = null; shown && into(); };
      }
      layout(true);
      into();
    }
    function into() { frame.contentWindow.focus(); }
    function shut() {
      if (!shown) return;
      layout(false);
      launcher.focus();
    }
    layout(false);
    launcher.onclick = function () { shown ? shut() : open(); };
    root.addEventListener("keydown", function (e) { if (e.key == "Escape") shut(); });
    W.addEventListener("message", function (e) {
      if (frame && e.source == frame.contentWindow && e.origin == ORIGIN && e.data == BYE) shut();
    });
    phone.addEventListener && phone.addEventListener("change", function () { layout(shown); });
  }
  function start() {
    try { build(); } catch (e) { warn("bouton non ajouté (" + e + ")."); }
  }
  document.body ? start() : document.addEventListener("DOMContentLoaded", start);
})();
