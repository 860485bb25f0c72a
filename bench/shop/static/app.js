/* Northwind theme script: lazy images and the sticky header shadow. */
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var onScroll = function () {
    if (!header) return;
    header.style.boxShadow = window.scrollY > 4 ? "0 2px 8px rgba(0,0,0,.08)" : "none";
  };
  window.addEventListener("scroll", onScroll, { passive: true });
  onScroll();
})();
