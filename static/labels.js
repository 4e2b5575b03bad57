// Labels: the sheet's Print button, and the labels form showing only the choices that apply
// (without script every choice shows, and the form works the same). No inline script: the
// Content-Security-Policy forbids it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  function sync(form) {
    form.querySelectorAll("[data-when]").forEach(function (part) {
      var rule = part.getAttribute("data-when").split("=");
      var chosen = form.querySelector("input[name='" + rule[0] + "']:checked");
      part.hidden = !chosen || chosen.value !== rule[1];
    });
  }

  function setUp() {
    document.querySelectorAll("[data-labels-form]").forEach(function (form) {
      form.addEventListener("change", function () { sync(form); });
      sync(form);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
