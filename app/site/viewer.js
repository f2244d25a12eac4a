// The static site's panel viewer (scripts/build_site.py): each slider position shows a frame drawn in advance
// by the panel's own code. No library, no request outside the site: the frame list is in the page.
(function () {
  "use strict";
  function init(view) {
    var m = JSON.parse(view.querySelector("script.manifest").textContent);
    var img = view.querySelector("img.frame");
    var caption = view.querySelector(".caption");
    var inputs = Array.prototype.slice.call(view.querySelectorAll("[data-control]"));
    var fetched = false;
    function key() {
      return inputs.map(function (el) { return el.type === "checkbox" ? (el.checked ? 1 : 0) : el.value; }).join("-");
    }
    function fetchAll() {            // a panel's frames are fetched when it is near the screen or touched
      if (fetched) { return; }
      fetched = true;
      Object.keys(m.frames).forEach(function (k) { var im = new Image(); im.src = m.base + m.frames[k][0]; });
    }
    function show() {
      inputs.forEach(function (el) {
        if (el.type !== "checkbox") {
          var out = el.parentNode.querySelector("output");
          if (out) { out.textContent = m.controls[+el.dataset.control].labels[+el.value]; }
        }
      });
      var k = key(), f = m.frames[k];
      if (!f) { return; }
      var t0 = performance.now();
      view.dataset.pending = k;
      img.onload = function () {
        if (view.dataset.pending === k) {
          view.dataset.shown = k;
          view.dataset.ms = (performance.now() - t0).toFixed(1);
        }
      };
      img.src = m.base + f[0];
      caption.innerHTML = f[1];
    }
    inputs.forEach(function (el) {
      el.addEventListener("input", show);
      el.addEventListener("change", show);
      el.addEventListener("focus", fetchAll);
      el.addEventListener("pointerdown", fetchAll);
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries, obs) {
        if (entries.some(function (e) { return e.isIntersecting; })) { fetchAll(); obs.disconnect(); }
      }, {rootMargin: "200px"}).observe(view);
    }
    view.dataset.shown = key();
    view.dataset.ready = "1";
  }
  function start() { document.querySelectorAll("figure.viewer").forEach(init); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
