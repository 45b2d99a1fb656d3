// The console's only script: reveal blurred media, and keyboard shortcuts.
// Served from /console/static under a CSP that forbids inline script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  function toggle(img) {
    img.classList.toggle("revealed");
  }
  document.querySelectorAll("img.media").forEach(function (img) {
    img.addEventListener("click", function () { toggle(img); });
    img.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(img); }
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (e.key === "r") {
      document.querySelectorAll("img.media").forEach(toggle);
      return;
    }
    var el = document.querySelector('[data-key="' + e.key + '"]');
    if (el) { e.preventDefault(); el.click(); }
  });
});
