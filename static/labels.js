// The label sheet's Print button (the Content-Security-Policy forbids inline script).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) {
    window.print();
  }
});
