// Live pages. A page whose <main> carries data-refresh="N" fetches itself again every N seconds
// and swaps its <main> in place, keeping scroll positions (a log scrolled to the bottom stays
// at the bottom), until the server stops marking the page live. Without JS, a <noscript> meta
// refresh does the same, less smoothly.
(function () {
  "use strict";

  function schedule(main, seconds) {
    var secs = seconds || parseFloat(main.getAttribute("data-refresh"));
    if (secs > 0) setTimeout(refresh, secs * 1000);
  }

  function scrolls(root) {
    var kept = {};
    root.querySelectorAll("[id]").forEach(function (el) {
      if (el.scrollHeight > el.clientHeight) {
        kept[el.id] = { top: el.scrollTop, bottom: el.scrollTop + el.clientHeight >= el.scrollHeight - 4 };
      }
    });
    return kept;
  }

  function restore(root, kept) {
    Object.keys(kept).forEach(function (id) {
      var el = root.querySelector("#" + CSS.escape(id));
      if (el) el.scrollTop = kept[id].bottom ? el.scrollHeight : kept[id].top;
    });
  }

  function refresh() {
    var main = document.querySelector("main");
    if (!main) return;
    if (document.hidden) return schedule(main);
    fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected) {
          location.reload(); // signed out meanwhile: show the sign-in page
          return null;
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.querySelector("main");
        if (!next) throw new Error("no <main> in the page");
        var kept = scrolls(main);
        next = document.adoptNode(next);
        main.replaceWith(next);
        restore(next, kept);
        document.title = doc.title;
        schedule(next);
      })
      .catch(function () {
        schedule(document.querySelector("main") || main, 5); // the server may be restarting: try again a little later
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.querySelector("main");
    if (main) schedule(main);
  });
})();
