// shopedge overlays: shows the dialogs the proxy put in the page when their
// trigger fires, keeps dismissals, and reports what was shown, dismissed and
// clicked with beacons. No third-party requests, no innerHTML, no inline
// handlers: the markup comes from the server, this only opens and closes it.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.HTMLDialogElement) return;
  var beaconURL = me.getAttribute("data-se-beacon");

  function beacon(event, id) {
    if (!beaconURL || !navigator.sendBeacon) return;
    try { navigator.sendBeacon(beaconURL, JSON.stringify({ e: event, id: id })); } catch (e) { /* never break the page */ }
  }
  function dismissed(id) {
    return document.cookie.split("; ").indexOf("{{.DismissCookiePrefix}}" + id + "=1") >= 0;
  }
  function remember(id, seconds) {
    if (seconds > 0) {
      document.cookie = "{{.DismissCookiePrefix}}" + id + "=1; Max-Age=" + seconds + "; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
    }
  }

  var open = null; // the dialog showing, if any: one at a time
  function setup(dlg) {
    var id = dlg.getAttribute("data-se-overlay");
    var trigger = dlg.getAttribute("data-se-trigger");
    var ms = parseInt(dlg.getAttribute("data-se-ms") || "0", 10);
    var depth = parseInt(dlg.getAttribute("data-se-depth") || "0", 10);
    var dismissFor = parseInt(dlg.getAttribute("data-se-dismiss") || "0", 10);
    var loaded = Date.now();
    var done = false, returnTo = null;

    function show(how) {
      if (done || open || dismissed(id)) return;
      done = true;
      open = dlg;
      returnTo = document.activeElement;
      dlg.showModal();
      dlg.setAttribute("data-se-shown-by", how);
      var first = dlg.querySelector(".se-ov-cta, .se-ov-close");
      if (first) first.focus();
      beacon("shown", id);
    }
    function close(why) {
      if (dlg.open) dlg.close(why);
    }
    dlg.addEventListener("close", function () {
      open = null;
      if (dlg.returnValue !== "clicked") {
        remember(id, dismissFor);
        beacon("dismissed", id);
      }
      if (returnTo && returnTo.focus) returnTo.focus();
    });
    // Esc closes a modal dialog natively (a "cancel" then a "close").
    dlg.addEventListener("click", function (ev) {
      if (ev.target === dlg) {
        // The dialog itself is the target of clicks on its padding and on
        // the backdrop: only the backdrop, outside the box, closes it.
        var r = dlg.getBoundingClientRect();
        if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) close("backdrop");
        return;
      }
      var a = ev.target.closest && ev.target.closest("a");
      if (a && dlg.contains(a)) {
        beacon("clicked", id);
        dlg.returnValue = "clicked";
        remember(id, dismissFor);
      }
    });
    var btn = dlg.querySelector(".se-ov-close");
    if (btn) btn.addEventListener("click", function (ev) { ev.preventDefault(); close("close"); });

    var dwellOver = function () { return Date.now() - loaded >= ms; };
    switch (trigger) {
      case "load":
        show("load");
        break;
      case "timer":
        setTimeout(function () { show("timer"); }, ms);
        break;
      case "scroll":
        window.addEventListener("scroll", function () {
          var h = document.documentElement.scrollHeight - window.innerHeight;
          if (h <= 0 || window.scrollY / h * 100 >= depth) show("scroll");
        }, { passive: true });
        break;
      case "exit":
        // Desktop: the pointer leaves the window through the top.
        document.addEventListener("mouseout", function (ev) {
          if (!ev.relatedTarget && ev.clientY <= 0 && dwellOver()) show("exit-pointer");
        });
        // Touch: a fast scroll up, after some reading.
        var lastY = window.scrollY, lastT = Date.now(), maxY = 0;
        window.addEventListener("scroll", function () {
          var y = window.scrollY, t = Date.now();
          maxY = Math.max(maxY, y);
          var speed = (lastY - y) / Math.max(t - lastT, 1); // px per ms, upwards
          if (speed > 1.5 && lastY - y > 120 && maxY > 400 && dwellOver()) show("exit-scroll");
          lastY = y; lastT = t;
        }, { passive: true });
        // Touch: the back button or gesture. One history entry is added at
        // the first touch (browsers ignore entries added without a gesture);
        // the first back shows the dialog, the second leaves as usual.
        if (window.matchMedia && window.matchMedia("(pointer: coarse)").matches) {
          var trapped = false;
          var arm = function () {
            if (trapped || done) return;
            trapped = true;
            history.pushState({ seTrap: 1 }, "");
          };
          // touchend and click grant the user activation that pushState
          // needs for the entry to count; touchstart does not.
          window.addEventListener("touchend", arm, { passive: true });
          window.addEventListener("click", arm);
          window.addEventListener("popstate", function () {
            if (!trapped) return;
            trapped = false;
            if (dwellOver()) show("exit-back"); else history.back();
          });
        }
        break;
    }
  }

  function start() {
    var dialogs = document.querySelectorAll("dialog[data-se-overlay]");
    for (var i = 0; i < dialogs.length; i++) setup(dialogs[i]);
    var banners = document.querySelectorAll("[data-se-banner]");
    if (banners.length && window.IntersectionObserver) {
      var seen = new IntersectionObserver(function (entries) {
        entries.forEach(function (en) {
          if (!en.isIntersecting) return;
          seen.unobserve(en.target);
          beacon("banner", en.target.getAttribute("data-se-banner"));
        });
      });
      for (var j = 0; j < banners.length; j++) seen.observe(banners[j]);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
