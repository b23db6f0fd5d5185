// Live pages. A page whose <main> carries data-refresh="N" fetches itself again every N seconds
// and swaps its <main> in place, keeping scroll positions (a log scrolled to the bottom stays
// at the bottom, a wide job graph keeps its horizontal scroll), until the server stops marking
// the page live. A swap waits while the user is typing in a form field of the page. Without JS,
// a <noscript> meta refresh does the same, less smoothly.
//
// Forms marked data-autosubmit (the runs list's filters) submit when one of their selects
// changes; their submit button still works without JS.
(function () {
  "use strict";

  function schedule(main, seconds) {
    var secs = seconds || parseFloat(main.getAttribute("data-refresh"));
    if (secs > 0) setTimeout(refresh, secs * 1000);
  }

  function scrolls(root) {
    var kept = {};
    root.querySelectorAll("[id]").forEach(function (el) {
      var tall = el.scrollHeight > el.clientHeight;
      var wide = el.scrollWidth > el.clientWidth;
      if (tall || wide) {
        kept[el.id] = {
          top: el.scrollTop,
          left: el.scrollLeft,
          bottom: tall && el.scrollTop + el.clientHeight >= el.scrollHeight - 4,
        };
      }
    });
    return kept;
  }

  function restore(root, kept) {
    Object.keys(kept).forEach(function (id) {
      var el = root.querySelector("#" + CSS.escape(id));
      if (!el) return;
      el.scrollTop = kept[id].bottom ? el.scrollHeight : kept[id].top;
      el.scrollLeft = kept[id].left;
    });
  }

  // Replacing <main> while the user types in one of its fields would lose what they typed.
  function typing(main) {
    var el = document.activeElement;
    return !!el && main.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  function refresh() {
    var main = document.querySelector("main");
    if (!main) return;
    if (document.hidden || typing(main)) return schedule(main);
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
        var current = document.querySelector("main") || main;
        if (typing(current)) return schedule(current); // the user started typing meanwhile
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.querySelector("main");
        if (!next) throw new Error("no <main> in the page");
        var kept = scrolls(current);
        next = document.adoptNode(next);
        current.replaceWith(next);
        restore(next, kept);
        document.title = doc.title;
        schedule(next);
      })
      .catch(function () {
        schedule(document.querySelector("main") || main, 5); // the server may be restarting: try again a little later
      });
  }

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.tagName === "SELECT" && el.form && el.form.hasAttribute("data-autosubmit")) {
      el.form.requestSubmit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.querySelector("main");
    if (main) schedule(main);
  });
})();
