// The console's only script: reveal blurred media, copy buttons, and keyboard shortcuts.
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
  // "Select all": ticks every row box of the bulk form.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      var name = all.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (b) {
        b.checked = all.checked;
      });
    });
  });
  // Copy buttons: the value of the field they name, as text.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.addEventListener("click", function (e) {
      e.preventDefault();
      var field = document.getElementById(b.getAttribute("data-copy"));
      if (!field) { return; }
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
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
