// Live pages. A page whose <main> carries data-refresh="N" fetches itself again every N seconds
// and swaps its <main> in place, keeping scroll positions (a log scrolled to the bottom stays
// at the bottom, a wide job graph keeps its horizontal scroll), until the server stops marking
// the page live. A swap waits while the user is typing in a form field of the page. Without JS,
// a <noscript> meta refresh does the same, less smoothly.
//
// Live logs. A <pre data-stream="URL"> (a running job's log) follows its job over an
// EventSource on URL: the log from where the page's text ends, rendered to HTML by the server.
// Each event's fragment is appended; a log scrolled to the bottom stays there; beyond data-cap
// characters the oldest lines are dropped (the page's next refresh says so). A refresh keeps a
// streaming <pre> in place of the new page's one (same id, same log, job still running), so the
// two never fight; when the job ends, its stream ends and the next refresh shows the final log.
//
// Forms marked data-autosubmit (the runs list's filters) submit when one of their selects
// changes; their submit button still works without JS.
(function () {
  "use strict";

  // Browsers open at most 6 connections per host over HTTP/1.1, and each stream holds one:
  // leave room for the refresh and for following a link.
  var MAX_STREAMS = 4;
  var streams = {}; // <pre> id → { pre, log, source, ended }

  function logOf(pre) {
    return (pre.getAttribute("data-stream") || "").split("?")[0];
  }

  function atBottom(el) {
    return el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
  }

  // A log that gets its first text: drop its "No output yet." and show it.
  function reveal(pre) {
    pre.hidden = false;
    var before = pre.previousElementSibling;
    if (before && before.classList.contains("empty")) before.remove();
  }

  // Drops the oldest text beyond `cap` characters, from a line start. Line ends sit in text
  // nodes right under the <pre> (the server closes every span on its line).
  function trim(pre, cap) {
    var excess = pre.textContent.length - cap;
    if (excess <= 0) return;
    var node;
    while ((node = pre.firstChild)) {
      var text = node.textContent;
      var nl = node.nodeType === Node.TEXT_NODE ? text.indexOf("\n", Math.max(0, excess - 1)) : -1;
      if (nl >= 0) {
        node.textContent = text.slice(nl + 1);
        return;
      }
      excess -= text.length;
      pre.removeChild(node);
    }
  }

  function append(pre, html) {
    var follow = pre.hidden || atBottom(pre);
    if (pre.hidden) reveal(pre);
    pre.insertAdjacentHTML("beforeend", html);
    var cap = parseInt(pre.getAttribute("data-cap"), 10);
    if (cap > 0) trim(pre, cap);
    if (follow) pre.scrollTop = pre.scrollHeight;
  }

  function stop(s) {
    s.source.close();
    s.ended = true;
  }

  function openStream(pre) {
    var s = { pre: pre, log: logOf(pre), ended: false, source: new EventSource(pre.getAttribute("data-stream")) };
    s.source.addEventListener("log", function (e) {
      append(s.pre, e.data);
    });
    s.source.addEventListener("end", function () {
      stop(s);
    });
    s.source.addEventListener("error", function (e) {
      // The server's own error event carries data; a lost connection retries by itself from the
      // last event's id, unless the browser gave up (an HTTP error).
      if (e.data !== undefined || s.source.readyState === EventSource.CLOSED) stop(s);
    });
    streams[pre.id] = s;
    pre.scrollTop = pre.scrollHeight; // a live log follows its end until the user scrolls up
  }

  // Opens streams for the live logs of `root` that have none, up to MAX_STREAMS in all.
  function startStreams(root) {
    root.querySelectorAll("pre[data-stream][id]").forEach(function (pre) {
      if (streams[pre.id] || Object.keys(streams).length >= MAX_STREAMS) return;
      openStream(pre);
    });
  }

  // In `next`, the page about to replace this one: puts back each streaming <pre> whose job
  // still runs, and stops the other streams (their <pre> goes, with the server's final text).
  function keepStreams(next) {
    Object.keys(streams).forEach(function (id) {
      var s = streams[id];
      var fresh = next.querySelector("#" + CSS.escape(id));
      if (!s.ended && fresh && fresh.tagName === "PRE" && logOf(fresh) === s.log) {
        fresh.replaceWith(s.pre);
        if (s.pre.textContent) reveal(s.pre);
      } else {
        stop(s);
        delete streams[id];
      }
    });
  }

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
        keepStreams(next);
        current.replaceWith(next);
        restore(next, kept);
        startStreams(next);
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
    if (main) {
      startStreams(main);
      schedule(main);
    }
  });
})();
